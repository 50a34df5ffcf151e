"""adopt-tui: license deployment and usage for cloud solution partners."""

__version__ = "0.1.0"
