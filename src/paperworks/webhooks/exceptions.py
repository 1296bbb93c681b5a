"""Webhooks' errors: each knows its status and stable code."""

from paperworks.kit.errors import AppError, Conflict, NotFound


class WebhookNotFound(NotFound):
    code = "webhook.not_found"
    title = "Webhook not found"


class DeliveryNotFound(NotFound):
    code = "webhook.delivery_not_found"
    title = "Delivery not found"


class InvalidWebhookUrl(AppError):
    status_code = 422
    code = "webhook.invalid_url"
    title = "Webhook URL not allowed"


class WebhookInactive(Conflict):
    code = "webhook.inactive"
    title = "Webhook inactive"
