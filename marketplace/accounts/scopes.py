"""API-key scopes. Login tokens and sessions carry all of them; an API key carries the ones it was given."""

SCOPES: dict[str, str] = {
    "profile:read": "Read your profile",
    "profile:write": "Change your profile",
    "gallery:read": "Browse artworks, listings, your orders and licences",
    "gallery:write": "Create artworks and listings, place orders",
    "generation:read": "Read datasets, training runs, models and generation jobs",
    "generation:write": "Upload datasets, start training runs and generation jobs",
    "commissions:read": "Read commissions",
    "commissions:write": "Post briefs, send offers, deliver, accept",
    "webhooks:write": "Manage webhook endpoints",
    "billing:read": "Read your plan, subscription, usage, payments and payout balance",
    "billing:write": "Change or cancel your subscription",
}
DEFAULT_API_KEY_SCOPES = ["profile:read", "commissions:read", "commissions:write", "gallery:read"]
