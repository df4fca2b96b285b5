-- Richards: Martin Richards' operating-system scheduler simulation (a port of
-- the classic benchmark, as in Octane's richards.js), run ITERATIONS times.
-- Classes are tables with metatables; tasks inherit from Task and run() is
-- dispatched through the metatable. Same output as richards.wal.
local ITERATIONS = 25
local COUNT = 10000

local ID_IDLE = 0
local ID_WORKER = 1
local ID_HANDLER_A = 2
local ID_HANDLER_B = 3
local ID_DEVICE_A = 4
local ID_DEVICE_B = 5

local KIND_DEVICE = 0
local KIND_WORK = 1
local DATA_SIZE = 4

local STATE_RUNNING = 0
local STATE_RUNNABLE = 1
local STATE_SUSPENDED = 2
local STATE_HELD = 4
local STATE_SUSPENDED_RUNNABLE = STATE_SUSPENDED | STATE_RUNNABLE
local STATE_NOT_HELD = ~STATE_HELD

local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, { __index = parent }) end
  return c
end

local Packet = class()

function Packet.new(link, id, kind)
  return setmetatable({ link = link, id = id, kind = kind, a1 = 0, a2 = { 0, 0, 0, 0 } }, Packet)
end

-- Appends this packet to the end of `queue` and returns the queue's head.
function Packet:add_to(queue)
  self.link = nil
  if queue == nil then return self end
  local next = queue
  while next.link ~= nil do next = next.link end
  next.link = self
  return queue
end

local TaskControlBlock = class()

function TaskControlBlock.new(link, id, priority, queue, task)
  local state = STATE_SUSPENDED_RUNNABLE
  if queue == nil then state = STATE_SUSPENDED end
  return setmetatable({ link = link, id = id, priority = priority, queue = queue,
                        task = task, state = state }, TaskControlBlock)
end

function TaskControlBlock:set_running() self.state = STATE_RUNNING end
function TaskControlBlock:mark_as_not_held() self.state = self.state & STATE_NOT_HELD end
function TaskControlBlock:mark_as_held() self.state = self.state | STATE_HELD end
function TaskControlBlock:mark_as_suspended() self.state = self.state | STATE_SUSPENDED end
function TaskControlBlock:mark_as_runnable() self.state = self.state | STATE_RUNNABLE end

function TaskControlBlock:is_held_or_suspended()
  return (self.state & STATE_HELD) ~= 0 or self.state == STATE_SUSPENDED
end

function TaskControlBlock:run()
  local packet = nil
  if self.state == STATE_SUSPENDED_RUNNABLE then
    packet = self.queue
    self.queue = packet.link
    if self.queue == nil then self.state = STATE_RUNNING else self.state = STATE_RUNNABLE end
  end
  return self.task:run(packet)
end

function TaskControlBlock:check_priority_add(task, packet)
  if self.queue == nil then
    self.queue = packet
    self:mark_as_runnable()
    if self.priority > task.priority then return self end
  else
    self.queue = packet:add_to(self.queue)
  end
  return task
end

local Task = class()

function Task:run(packet) return nil end

local IdleTask = class(Task)

function IdleTask.new(scheduler, v1, count)
  return setmetatable({ scheduler = scheduler, v1 = v1, count = count }, IdleTask)
end

function IdleTask:run(packet)
  self.count = self.count - 1
  if self.count == 0 then return self.scheduler:hold_current() end
  if (self.v1 & 1) == 0 then
    self.v1 = self.v1 >> 1
    return self.scheduler:release(ID_DEVICE_A)
  end
  self.v1 = (self.v1 >> 1) ~ 0xD008
  return self.scheduler:release(ID_DEVICE_B)
end

local DeviceTask = class(Task)

function DeviceTask.new(scheduler)
  return setmetatable({ scheduler = scheduler, pending = nil }, DeviceTask)
end

function DeviceTask:run(packet)
  if packet == nil then
    if self.pending == nil then return self.scheduler:suspend_current() end
    local v = self.pending
    self.pending = nil
    return self.scheduler:queue(v)
  end
  self.pending = packet
  return self.scheduler:hold_current()
end

local WorkerTask = class(Task)

function WorkerTask.new(scheduler, destination, count)
  return setmetatable({ scheduler = scheduler, destination = destination, count = count }, WorkerTask)
end

function WorkerTask:run(packet)
  if packet == nil then return self.scheduler:suspend_current() end
  if self.destination == ID_HANDLER_A then
    self.destination = ID_HANDLER_B
  else
    self.destination = ID_HANDLER_A
  end
  packet.id = self.destination
  packet.a1 = 0
  for i = 1, DATA_SIZE do
    self.count = self.count + 1
    if self.count > 26 then self.count = 1 end
    packet.a2[i] = self.count
  end
  return self.scheduler:queue(packet)
end

local HandlerTask = class(Task)

function HandlerTask.new(scheduler)
  return setmetatable({ scheduler = scheduler, work_queue = nil, device_queue = nil }, HandlerTask)
end

function HandlerTask:run(packet)
  if packet ~= nil then
    if packet.kind == KIND_WORK then
      self.work_queue = packet:add_to(self.work_queue)
    else
      self.device_queue = packet:add_to(self.device_queue)
    end
  end
  if self.work_queue ~= nil then
    local count = self.work_queue.a1
    if count < DATA_SIZE then
      if self.device_queue ~= nil then
        local v = self.device_queue
        self.device_queue = self.device_queue.link
        v.a1 = self.work_queue.a2[count + 1]
        self.work_queue.a1 = count + 1
        return self.scheduler:queue(v)
      end
    else
      local v = self.work_queue
      self.work_queue = self.work_queue.link
      return self.scheduler:queue(v)
    end
  end
  return self.scheduler:suspend_current()
end

local Scheduler = class()

function Scheduler.new()
  return setmetatable({ queue_count = 0, hold_count = 0, blocks = {}, list = nil,
                        current_tcb = nil, current_id = nil }, Scheduler)
end

function Scheduler:add_idle_task(id, priority, queue, count)
  self:add_running_task(id, priority, queue, IdleTask.new(self, 1, count))
end

function Scheduler:add_worker_task(id, priority, queue)
  self:add_task(id, priority, queue, WorkerTask.new(self, ID_HANDLER_A, 0))
end

function Scheduler:add_handler_task(id, priority, queue)
  self:add_task(id, priority, queue, HandlerTask.new(self))
end

function Scheduler:add_device_task(id, priority, queue)
  self:add_task(id, priority, queue, DeviceTask.new(self))
end

function Scheduler:add_running_task(id, priority, queue, task)
  self:add_task(id, priority, queue, task)
  self.current_tcb:set_running()
end

function Scheduler:add_task(id, priority, queue, task)
  self.current_tcb = TaskControlBlock.new(self.list, id, priority, queue, task)
  self.list = self.current_tcb
  self.blocks[id] = self.current_tcb
end

function Scheduler:schedule()
  self.current_tcb = self.list
  while self.current_tcb ~= nil do
    if self.current_tcb:is_held_or_suspended() then
      self.current_tcb = self.current_tcb.link
    else
      self.current_id = self.current_tcb.id
      self.current_tcb = self.current_tcb:run()
    end
  end
end

function Scheduler:release(id)
  local tcb = self.blocks[id]
  if tcb == nil then return tcb end
  tcb:mark_as_not_held()
  if tcb.priority > self.current_tcb.priority then return tcb end
  return self.current_tcb
end

function Scheduler:hold_current()
  self.hold_count = self.hold_count + 1
  self.current_tcb:mark_as_held()
  return self.current_tcb.link
end

function Scheduler:suspend_current()
  self.current_tcb:mark_as_suspended()
  return self.current_tcb
end

function Scheduler:queue(packet)
  local t = self.blocks[packet.id]
  if t == nil then return t end
  self.queue_count = self.queue_count + 1
  packet.link = nil
  packet.id = self.current_id
  return t:check_priority_add(self.current_tcb, packet)
end

local function run_richards()
  local scheduler = Scheduler.new()
  scheduler:add_idle_task(ID_IDLE, 0, nil, COUNT)

  local queue = Packet.new(nil, ID_WORKER, KIND_WORK)
  queue = Packet.new(queue, ID_WORKER, KIND_WORK)
  scheduler:add_worker_task(ID_WORKER, 1000, queue)

  queue = Packet.new(nil, ID_DEVICE_A, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_A, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_A, KIND_DEVICE)
  scheduler:add_handler_task(ID_HANDLER_A, 2000, queue)

  queue = Packet.new(nil, ID_DEVICE_B, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_B, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_B, KIND_DEVICE)
  scheduler:add_handler_task(ID_HANDLER_B, 3000, queue)

  scheduler:add_device_task(ID_DEVICE_A, 4000, nil)
  scheduler:add_device_task(ID_DEVICE_B, 5000, nil)

  scheduler:schedule()
  return scheduler
end

local function main()
  local queued, held = 0, 0
  for _ = 1, ITERATIONS do
    local scheduler = run_richards()
    queued = queued + scheduler.queue_count
    held = held + scheduler.hold_count
  end
  print(string.format("qpkt count = %d holdcount = %d", queued // ITERATIONS, held // ITERATIONS))
  print(string.format("%d runs: %d packets queued, %d holds", ITERATIONS, queued, held))
end

main()
