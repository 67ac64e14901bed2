"""Paying subscribers' jobs start ahead in their pool: the priority the hook gives each job by its owner's plan,
and the priority its queued task really carries."""

import pytest
from django_tasks_db.models import DBTaskResult

from core.jobs import job_enqueue, job_priority
from marketplace.subscriptions.priorities import PAID_PRIORITY
from marketplace.subscriptions.services import subscription_change_plan
from tests.generation.factories import export_tiny_onnx, install_model_version

pytestmark = pytest.mark.django_db


class _Owned:
    def __init__(self, owner) -> None:
        self.owner, self.owner_id = owner, owner.pk


def test_free_plan_jobs_start_at_zero_and_paid_plans_ahead(make_user):
    free, paying = make_user(role="artist"), make_user(role="artist")
    subscription_change_plan(user=paying, plan="pro", payment_method="tok_visa")
    assert job_priority(_Owned(free)) == 0
    assert job_priority(_Owned(paying)) == PAID_PRIORITY


def test_the_queued_task_carries_the_owner_plan_priority(make_user, tmp_path):
    from generation.models import GenerationJob

    paying = make_user(role="artist")
    subscription_change_plan(user=paying, plan="pro", payment_method="tok_visa")
    model = install_model_version(owner=paying, onnx_path=export_tiny_onnx(tmp_path))
    job = GenerationJob.objects.create(owner=paying, model_version=model, count=1, seeds=[1])
    job_enqueue(job=job)
    task = DBTaskResult.objects.get(id=job.task_id)
    assert task.priority == PAID_PRIORITY and task.queue_name == "generation"
