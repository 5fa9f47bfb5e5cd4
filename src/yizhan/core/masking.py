"""Masks for personal numbers shown in lists (Hutool conventions: 138****1234)."""


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(number: str) -> str:
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:1]}{'*' * (len(number) - 3)}{number[-2:]}"


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)
