"""Honours (清远骑士 …): titles with a period and quota, nominations, approval, the honour roll; the
optional organisation pipeline.
"""
