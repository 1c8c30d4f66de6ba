"""Patrol: nest adapters, the controller, flight records, the simulated world, coverage."""
