"""Appeals (诉求直通车) routed to responsible bodies, and joint meetings (联席会议)
with decisions followed up.
"""
