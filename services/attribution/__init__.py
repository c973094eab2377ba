"""Visits and attribution: where visitors came from and what brought each order."""
