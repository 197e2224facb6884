"""Specialist logic: plain functions of (state, services) that return state updates."""
