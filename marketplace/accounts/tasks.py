"""Accounts housekeeping (registered with the scheduler in AccountsConfig.ready)."""

from django.tasks import task


@task(queue_name="default")
def prune_login_lockouts_task() -> int:
    from marketplace.accounts.lockout import login_lockouts_prune

    return login_lockouts_prune()
