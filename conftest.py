"""Shared pytest fixtures for the whole project."""
