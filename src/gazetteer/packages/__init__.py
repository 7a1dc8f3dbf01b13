"""Packages: the kinds of workflow the server runs (`base.Package`), registered by name in `registry`."""
