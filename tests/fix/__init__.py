"""Tests of iamgate.fix, one module per module of the package.

A package, so that ``fix.test_terraform`` and the readers' ``test_terraform`` are two modules.
"""
