from estatedesk.messaging.fetch_wait import FetchWait


def test_the_wait_stays_short_while_messages_flow_and_grows_once_the_topics_are_quiet():
    wait = FetchWait(busy_ms=10, quiet_ms=200, quiet_after_s=1.0)
    assert wait.after_fetch(False, now=0.0) == 200  # never saw a message: quiet from the start
    assert wait.after_fetch(True, now=5.0) == 10
    assert wait.after_fetch(False, now=5.9) == 10
    assert wait.after_fetch(False, now=6.0) == 200
    assert wait.after_fetch(True, now=6.1) == 10  # the first message after the quiet brings the short wait back


def test_a_quiet_wait_shorter_than_the_busy_one_never_shortens_it():
    assert FetchWait(busy_ms=50, quiet_ms=10, quiet_after_s=1.0).after_fetch(False, now=0.0) == 50
