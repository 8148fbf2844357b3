"""Bulkhead manifest compiler: device-tree manifest -> checked C tables."""
