"""Events (活动: sign-up, waiting list, QR check-in, attendance points) and welfare
hand-outs (福利发放).
"""
