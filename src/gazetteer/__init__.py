"""Gazetteer: a self-hosted catalog for the data in the AWS Glue Data Catalog."""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
