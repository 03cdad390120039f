"""iamgate: an offline pre-deploy gate for AWS IAM."""

__version__ = "0.1.0"
