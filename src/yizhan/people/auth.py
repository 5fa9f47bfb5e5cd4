"""Log in with a phone number (riders) or a username (staff), one backend for both."""

from django.contrib.auth.backends import ModelBackend

from yizhan.core import crypto
from yizhan.people.models import User
from yizhan.people.validation import normalise_phone_or_none


class PhoneOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        phone = normalise_phone_or_none(username)
        user = None
        if phone:
            user = User.objects.filter(phone_index__in=crypto.blind_indexes(phone)).first()
        if user is None:
            user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
