"""Ids that look like personal data are refused (app/thread_ids.py `check_not_personal`), and the desk's own
random ids never are: a digit run inside a hex id passes a Luhn check about once in 1,300 ids."""

from __future__ import annotations

import pytest

from app.thread_ids import PersonalIdError, check_not_personal, check_thread_id

# uuid4().hex values whose digit runs pass for card numbers (found by sampling)
HEX_IDS = ["4aa76f85dc68461783188397d737c94d", "c1a585576404445084ea90df46fe8d8c",
           "f7c34485037346999c963ac7739dfd51", "ae5432798741427e9796b5170e211d84", "c6bc9ca61a5946918960351c1d20aa87"]


@pytest.mark.parametrize("value", HEX_IDS + ["cus-1001", "msg-42", "eval-20261207-0001", "order-55120"])
def test_opaque_ids_pass(value):
    assert check_thread_id(value) == value and check_not_personal(value, "message_id") == value


@pytest.mark.parametrize("value", ["jane.roe@example.com", "4111111111111111", "4111 1111 1111 1111",
                                   "card-4111111111111111", "t:+14155550100", "+44 20 7946 0958",
                                   "DE89370400440532013000", "123-45-6789", "jane.roe@example.com-1"])
def test_personal_data_standing_on_its_own_is_refused_without_echoing_it(value):
    with pytest.raises(PersonalIdError, match="looks like personal data") as err:
        check_thread_id(value)
    assert value not in str(err.value)
