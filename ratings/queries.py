"""The replies the workbench works on, and the filters shared by the queue, dashboard and export."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from characters.models import Character
from conversations.models import Message
from ratings.models import RATE_PERMISSION, Rating, ReasonTag, Thumb, UserFeedback, Verdict


def rateable_replies() -> QuerySet[Message]:
    """Finished chat replies, those a user flagged 👎 first, then the newest."""
    flagged = UserFeedback.objects.filter(message=OuterRef("pk"), thumb=Thumb.DOWN)
    return (
        Message.objects.filter(role=Message.Role.ASSISTANT)
        .exclude(state=Message.State.STREAMING)
        .exclude(content="")
        .select_related("session__character", "session__user")
        .annotate(flagged=Exists(flagged))
        .order_by("-flagged", "-created_at", "-pk")
    )


def raters() -> QuerySet:
    app_label, codename = RATE_PERMISSION.split(".")
    users = get_user_model().objects.filter(is_active=True)
    with_permission = (
        Q(is_superuser=True)
        | Q(
            user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
        )
        | Q(
            groups__permissions__codename=codename,
            groups__permissions__content_type__app_label=app_label,
        )
    )
    return users.filter(with_permission).distinct().order_by("username")


class ReplyFilterForm(forms.Form):
    character = forms.ModelChoiceField(
        label=_("Character"), required=False, queryset=Character.objects.order_by("name")
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rated = forms.ChoiceField(
        label=_("Rated"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Rated")), ("no", _("Not rated"))],
    )
    flagged = forms.BooleanField(label=_("Flagged by a user"), required=False)
    verdict = forms.ChoiceField(
        label=_("Verdict"), required=False, choices=[("", _("Any")), *Verdict.choices]
    )
    reason = forms.ModelChoiceField(
        label=_("Reason"), required=False, queryset=ReasonTag.objects.all()
    )
    rater = forms.ModelChoiceField(label=_("Rater"), required=False, queryset=raters())

    def apply(self, replies: QuerySet[Message]) -> QuerySet[Message]:
        """The replies matching the valid filters (invalid ones are ignored)."""
        if not self.is_valid():
            return replies
        data = self.cleaned_data
        if data["character"]:
            replies = replies.filter(session__character=data["character"])
        if data["since"]:
            replies = replies.filter(created_at__date__gte=data["since"])
        if data["until"]:
            replies = replies.filter(created_at__date__lte=data["until"])
        if data["rated"] == "yes":
            replies = replies.filter(Exists(Rating.objects.filter(message=OuterRef("pk"))))
        elif data["rated"] == "no":
            replies = replies.exclude(Exists(Rating.objects.filter(message=OuterRef("pk"))))
        if data["flagged"]:
            replies = replies.filter(flagged=True)
        if conditions := self.rating_conditions():
            replies = replies.filter(
                Exists(Rating.objects.filter(conditions, message=OuterRef("pk")))
            )
        return replies

    def rating_conditions(self) -> Q:
        """What one staff rating must say (verdict, reason, rater); empty when no such filter
        is set. The queue shows the replies with such a rating; the export its matching rows."""
        if not self.is_valid():
            return Q()
        data, conditions = self.cleaned_data, Q()
        if data["verdict"]:
            conditions &= Q(verdict=data["verdict"])
        if data["reason"]:
            conditions &= Q(reasons=data["reason"])
        if data["rater"]:
            conditions &= Q(rater=data["rater"])
        return conditions
