from django.tasks import task


@task(queue_name="default")
def demo_advance_task() -> str:
    from marketplace.demo.services import demo_advance

    return demo_advance()
