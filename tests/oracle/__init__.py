"""Differential-testing oracle: iamgate's engine against @cloud-copilot/iam-simulate.

* ``generate`` — seeded random, valid authorization cases (neutral format, see
  ../shared/conformance/NEUTRAL_FORMAT.md) with an ``oracle`` section naming the caller kind.
* ``simulate`` — installs iam-simulate into a temporary folder at run time (AGPL-3.0: never
  vendored) and runs one node process over every case; ``translate`` turns a case into the
  Simulation input the same case means to iam-simulate.
* ``compare`` — decides each case with both engines, minimizes the disagreements and groups
  them in classes; ``known`` lists the classes that are expected (documented deviations of the
  oracle, engine bugs being fixed).
* ``python -m tests.oracle --cases N --seed S --out disagreements.json`` runs it.
"""
