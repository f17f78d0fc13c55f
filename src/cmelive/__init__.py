"""cmelive: a live security auditor for Cisco Unified CME routers."""

__version__ = "0.1.0"
