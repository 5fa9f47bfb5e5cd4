"""Yizhan 驿站: delivery riders and couriers in community governance, and care for them."""

__version__ = "0.1.0"
