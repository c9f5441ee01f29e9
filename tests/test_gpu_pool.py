"""The GPU pool: exclusive devices, strict first-come queue."""

import asyncio

from labdeck.service.gpus import GPUPool


def test_devices_are_exclusive_and_freed_devices_go_to_the_head_of_the_queue():
    pool = GPUPool(ids=["0", "1"])
    assert pool.try_assign("ann", 1) == ["0"]
    assert pool.try_assign("ben", 1) == ["1"]
    assert pool.try_assign("cat", 1) is None
    assert pool.try_assign("dan", 1) is None
    assert (pool.position("cat"), pool.position("dan")) == (1, 2)
    # asking again keeps the place
    assert pool.try_assign("dan", 1) is None and pool.position("dan") == 2

    pool.release(["0"])
    assert pool.try_assign("dan", 1) is None  # not dan's turn
    assert pool.try_assign("cat", 1) == ["0"]
    assert pool.position("dan") == 1
    pool.release(["1"])
    assert pool.try_assign("dan", 1) == ["1"]
    assert pool.queue == []


def test_the_head_of_the_queue_blocks_smaller_requests_behind_it():
    pool = GPUPool(ids=["0", "1"])
    assert pool.try_assign("ann", 1) == ["0"]
    assert pool.try_assign("big", 2) is None
    assert pool.try_assign("small", 1) is None  # a GPU is free, but big is first
    pool.release(["0"])
    assert pool.try_assign("big", 2) == ["0", "1"]


def test_leaving_the_queue_moves_everyone_up():
    pool = GPUPool(ids=["0"])
    pool.try_assign("ann", 1)
    pool.try_assign("ben", 1)
    pool.try_assign("cat", 1)
    pool.leave("ben")
    assert pool.position("cat") == 1


def test_a_queued_spawn_that_stops_asking_loses_its_place():
    pool = GPUPool(ids=["0"], queue_timeout=0)
    pool.try_assign("ann", 1)
    pool.try_assign("ben", 1)
    assert pool.position("ben") is None


def test_restored_assignments_are_not_handed_out_again():
    pool = GPUPool(ids=["0", "1"])
    pool.restore("ann", ["1"])
    assert pool.try_assign("ben", 1) == ["0"]
    assert pool.try_assign("cat", 1) is None


def test_waiters_wake_when_a_device_is_released():
    async def scenario():
        pool = GPUPool(ids=["0"])
        pool.try_assign("ann", 1)
        pool.try_assign("ben", 1)
        waiter = asyncio.create_task(pool.wait_for_change(10))
        await asyncio.sleep(0)
        pool.release(["0"])
        await asyncio.wait_for(waiter, 1)
        return pool.try_assign("ben", 1)

    assert asyncio.run(scenario()) == ["0"]
