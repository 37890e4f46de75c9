"""Programmes: validation (``validation``), create / revise / stop / emergencies
(``services``) and the scheduler's reads (``selectors``)."""
