from django.tasks import task

from marketplace.demo.services import demo_advance


@task(queue_name="default")
def demo_advance_task() -> str:
    return demo_advance()
