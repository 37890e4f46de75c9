"""Loudspeaker clusters and devices, their schedules, and the device API."""
