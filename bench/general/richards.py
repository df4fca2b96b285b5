# Richards: Martin Richards' operating-system scheduler simulation (a port of
# the classic benchmark, as in Octane's richards.js), run ITERATIONS times.
# Tasks are a class hierarchy whose run() is dispatched virtually. Same output
# as richards.wal.
ITERATIONS = 25
COUNT = 10000

ID_IDLE = 0
ID_WORKER = 1
ID_HANDLER_A = 2
ID_HANDLER_B = 3
ID_DEVICE_A = 4
ID_DEVICE_B = 5
NUMBER_OF_IDS = 6

KIND_DEVICE = 0
KIND_WORK = 1
DATA_SIZE = 4

STATE_RUNNING = 0
STATE_RUNNABLE = 1
STATE_SUSPENDED = 2
STATE_HELD = 4
STATE_SUSPENDED_RUNNABLE = STATE_SUSPENDED | STATE_RUNNABLE
STATE_NOT_HELD = ~STATE_HELD


class Packet:
    def __init__(self, link, id, kind):
        self.link = link
        self.id = id
        self.kind = kind
        self.a1 = 0
        self.a2 = [0] * DATA_SIZE

    def add_to(self, queue):
        """Appends this packet to the end of `queue` and returns the queue's head."""
        self.link = None
        if queue is None:
            return self
        next = queue
        while next.link is not None:
            next = next.link
        next.link = self
        return queue


class TaskControlBlock:
    def __init__(self, link, id, priority, queue, task):
        self.link = link
        self.id = id
        self.priority = priority
        self.queue = queue
        self.task = task
        if queue is None:
            self.state = STATE_SUSPENDED
        else:
            self.state = STATE_SUSPENDED_RUNNABLE

    def set_running(self):
        self.state = STATE_RUNNING

    def mark_as_not_held(self):
        self.state = self.state & STATE_NOT_HELD

    def mark_as_held(self):
        self.state = self.state | STATE_HELD

    def mark_as_suspended(self):
        self.state = self.state | STATE_SUSPENDED

    def mark_as_runnable(self):
        self.state = self.state | STATE_RUNNABLE

    def is_held_or_suspended(self):
        return (self.state & STATE_HELD) != 0 or self.state == STATE_SUSPENDED

    def run(self):
        packet = None
        if self.state == STATE_SUSPENDED_RUNNABLE:
            packet = self.queue
            self.queue = packet.link
            if self.queue is None:
                self.state = STATE_RUNNING
            else:
                self.state = STATE_RUNNABLE
        return self.task.run(packet)

    def check_priority_add(self, task, packet):
        if self.queue is None:
            self.queue = packet
            self.mark_as_runnable()
            if self.priority > task.priority:
                return self
        else:
            self.queue = packet.add_to(self.queue)
        return task


class Task:
    def __init__(self, scheduler):
        self.scheduler = scheduler

    def run(self, packet):
        return None


class IdleTask(Task):
    def __init__(self, scheduler, v1, count):
        super().__init__(scheduler)
        self.v1 = v1
        self.count = count

    def run(self, packet):
        self.count -= 1
        if self.count == 0:
            return self.scheduler.hold_current()
        if (self.v1 & 1) == 0:
            self.v1 = self.v1 >> 1
            return self.scheduler.release(ID_DEVICE_A)
        self.v1 = (self.v1 >> 1) ^ 0xD008
        return self.scheduler.release(ID_DEVICE_B)


class DeviceTask(Task):
    def __init__(self, scheduler):
        super().__init__(scheduler)
        self.pending = None

    def run(self, packet):
        if packet is None:
            if self.pending is None:
                return self.scheduler.suspend_current()
            v = self.pending
            self.pending = None
            return self.scheduler.queue(v)
        self.pending = packet
        return self.scheduler.hold_current()


class WorkerTask(Task):
    def __init__(self, scheduler, destination, count):
        super().__init__(scheduler)
        self.destination = destination
        self.count = count

    def run(self, packet):
        if packet is None:
            return self.scheduler.suspend_current()
        if self.destination == ID_HANDLER_A:
            self.destination = ID_HANDLER_B
        else:
            self.destination = ID_HANDLER_A
        packet.id = self.destination
        packet.a1 = 0
        for i in range(DATA_SIZE):
            self.count += 1
            if self.count > 26:
                self.count = 1
            packet.a2[i] = self.count
        return self.scheduler.queue(packet)


class HandlerTask(Task):
    def __init__(self, scheduler):
        super().__init__(scheduler)
        self.work_queue = None
        self.device_queue = None

    def run(self, packet):
        if packet is not None:
            if packet.kind == KIND_WORK:
                self.work_queue = packet.add_to(self.work_queue)
            else:
                self.device_queue = packet.add_to(self.device_queue)
        if self.work_queue is not None:
            count = self.work_queue.a1
            if count < DATA_SIZE:
                if self.device_queue is not None:
                    v = self.device_queue
                    self.device_queue = self.device_queue.link
                    v.a1 = self.work_queue.a2[count]
                    self.work_queue.a1 = count + 1
                    return self.scheduler.queue(v)
            else:
                v = self.work_queue
                self.work_queue = self.work_queue.link
                return self.scheduler.queue(v)
        return self.scheduler.suspend_current()


class Scheduler:
    def __init__(self):
        self.queue_count = 0
        self.hold_count = 0
        self.blocks = [None] * NUMBER_OF_IDS
        self.list = None
        self.current_tcb = None
        self.current_id = None

    def add_idle_task(self, id, priority, queue, count):
        self.add_running_task(id, priority, queue, IdleTask(self, 1, count))

    def add_worker_task(self, id, priority, queue):
        self.add_task(id, priority, queue, WorkerTask(self, ID_HANDLER_A, 0))

    def add_handler_task(self, id, priority, queue):
        self.add_task(id, priority, queue, HandlerTask(self))

    def add_device_task(self, id, priority, queue):
        self.add_task(id, priority, queue, DeviceTask(self))

    def add_running_task(self, id, priority, queue, task):
        self.add_task(id, priority, queue, task)
        self.current_tcb.set_running()

    def add_task(self, id, priority, queue, task):
        self.current_tcb = TaskControlBlock(self.list, id, priority, queue, task)
        self.list = self.current_tcb
        self.blocks[id] = self.current_tcb

    def schedule(self):
        self.current_tcb = self.list
        while self.current_tcb is not None:
            if self.current_tcb.is_held_or_suspended():
                self.current_tcb = self.current_tcb.link
            else:
                self.current_id = self.current_tcb.id
                self.current_tcb = self.current_tcb.run()

    def release(self, id):
        tcb = self.blocks[id]
        if tcb is None:
            return tcb
        tcb.mark_as_not_held()
        if tcb.priority > self.current_tcb.priority:
            return tcb
        return self.current_tcb

    def hold_current(self):
        self.hold_count += 1
        self.current_tcb.mark_as_held()
        return self.current_tcb.link

    def suspend_current(self):
        self.current_tcb.mark_as_suspended()
        return self.current_tcb

    def queue(self, packet):
        t = self.blocks[packet.id]
        if t is None:
            return t
        self.queue_count += 1
        packet.link = None
        packet.id = self.current_id
        return t.check_priority_add(self.current_tcb, packet)


def run_richards():
    scheduler = Scheduler()
    scheduler.add_idle_task(ID_IDLE, 0, None, COUNT)

    queue = Packet(None, ID_WORKER, KIND_WORK)
    queue = Packet(queue, ID_WORKER, KIND_WORK)
    scheduler.add_worker_task(ID_WORKER, 1000, queue)

    queue = Packet(None, ID_DEVICE_A, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_A, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_A, KIND_DEVICE)
    scheduler.add_handler_task(ID_HANDLER_A, 2000, queue)

    queue = Packet(None, ID_DEVICE_B, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_B, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_B, KIND_DEVICE)
    scheduler.add_handler_task(ID_HANDLER_B, 3000, queue)

    scheduler.add_device_task(ID_DEVICE_A, 4000, None)
    scheduler.add_device_task(ID_DEVICE_B, 5000, None)

    scheduler.schedule()
    return scheduler


def main():
    queued = held = 0
    for _ in range(ITERATIONS):
        scheduler = run_richards()
        queued += scheduler.queue_count
        held += scheduler.hold_count
    print(f"qpkt count = {queued // ITERATIONS} holdcount = {held // ITERATIONS}")
    print(f"{ITERATIONS} runs: {queued} packets queued, {held} holds")


main()
