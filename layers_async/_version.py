"""The package version (read by pyproject.toml through hatch)."""

__version__ = "0.1.0.dev0"
