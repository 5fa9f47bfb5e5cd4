"""Micro-wishes (微心愿): posted, approved, claimed, fulfilled, confirmed."""
