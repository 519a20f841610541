"""Chat users' own 👍/👎 on the replies of their conversations."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from project.http import HtmxHttpRequest
from ratings import services
from ratings.models import Thumb
from ratings.services import RatingRefused


class FeedbackForm(forms.Form):
    thumb = forms.ChoiceField(choices=Thumb.choices)
    reason = forms.CharField(required=False, max_length=500)


@require_POST
def reply_feedback(request: HtmxHttpRequest, message_id: int) -> HttpResponse:
    try:
        message = services.reply_for_feedback(user=request.user, message_id=message_id)
    except RatingRefused as exc:
        raise Http404(exc.message) from exc
    form = FeedbackForm(request.POST)
    if form.is_valid():
        services.feedback_save(message=message, user=request.user, **form.cleaned_data)
    if not request.htmx:
        return redirect("conversations:chat", session_id=message.session_id)
    context = {"message": message, "feedback": services.feedback_of(message), "form": form}
    return render(
        request, "ratings/_feedback.html", context, status=200 if form.is_valid() else 400
    )
