"""Duty logs of riders holding posts (patrols, mediations, help to the elderly, gift deliveries),
verified by staff, paid in points.
"""
