-- The approval workflow (审批流程): deployed BPMN versions, their binding to items, running
-- instances with their open tasks (the approvers' inboxes), durable timers and the history of
-- every transition. Portable SQL as in 0001: TEXT and BIGINT only, times as fixed-width UTC text.
--
-- Every transition is one transaction: the instance row (its engine state, optimistic `rev`),
-- the task rows it opens or closes, the timer rows it arms or cancels and its history rows.

-- Every deployment is a new version of its process key (the BPMN process id); a deployment is
-- never changed, so running instances keep the version they started on.
CREATE TABLE wf_definitions (
    id TEXT PRIMARY KEY,
    process_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    xml TEXT NOT NULL,
    sm3 TEXT NOT NULL,
    deployed_at TEXT NOT NULL,
    deployed_by TEXT NOT NULL,
    UNIQUE (process_key, version)
);

-- An item's approval process: new cases start on the latest version of `process_key`.
-- `rules` overrides, per user task, the candidate roles and organisations, the step limit and
-- the escalation declared in the BPMN file (JSON).
CREATE TABLE wf_bindings (
    item_code TEXT PRIMARY KEY REFERENCES items (code),
    process_key TEXT NOT NULL,
    rules TEXT NOT NULL,
    bound_at TEXT NOT NULL,
    bound_by TEXT NOT NULL
);
CREATE INDEX wf_bindings_process ON wf_bindings (process_key);

-- state: running, suspended, completed, terminated. `data` is the engine's instance document
-- (tokens, work items, timers, variables; its history lives in wf_history).
-- `due_at` is the instance limit (承诺时限) in working days, moved by paused working time.
CREATE TABLE wf_instances (
    id TEXT PRIMARY KEY,
    definition_id TEXT NOT NULL REFERENCES wf_definitions (id),
    business_key TEXT NOT NULL UNIQUE,
    item_code TEXT,
    org TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    rules TEXT NOT NULL,
    rev BIGINT NOT NULL,
    hseq BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    started_by TEXT NOT NULL,
    ended_at TEXT,
    end_event TEXT,
    limit_days BIGINT,
    due_at TEXT,
    suspended_at TEXT,
    suspend_reason TEXT
);
CREATE INDEX wf_instances_state ON wf_instances (state, definition_id);

-- One row per engine work item. state: open, delegated, done, cancelled.
-- `assignee` is who holds it (claimed, named, delegated or transferred), `owner` who delegated it.
-- `created_seq` / `done_seq` are history sequence numbers (撤回 checks nothing happened since).
CREATE TABLE wf_tasks (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES wf_instances (id),
    work_item BIGINT NOT NULL,
    node TEXT NOT NULL,
    name TEXT NOT NULL,
    org TEXT NOT NULL,
    state TEXT NOT NULL,
    assignee TEXT,
    owner TEXT,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    due_at TEXT,
    overdue BIGINT NOT NULL,
    done_at TEXT,
    done_seq BIGINT,
    done_by TEXT,
    outcome TEXT,
    opinion TEXT
);
CREATE INDEX wf_tasks_instance ON wf_tasks (instance_id, state);
CREATE INDEX wf_tasks_assignee ON wf_tasks (assignee, state);

-- To whom an open task is offered: a role in an organisation, or a named user (role and org empty).
CREATE TABLE wf_offers (
    task_id TEXT NOT NULL REFERENCES wf_tasks (id),
    org TEXT NOT NULL,
    role TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (task_id, org, role, username)
);
CREATE INDEX wf_offers_org_role ON wf_offers (org, role);
CREATE INDEX wf_offers_user ON wf_offers (username);

-- Durable timers: BPMN timers (`timer` = the engine's timer id) and step limits (`work_item`).
-- state: pending, fired, cancelled. A node claims a due timer by moving it out of `pending` in
-- the same transaction that applies it, so each fires exactly once across nodes.
CREATE TABLE wf_timers (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES wf_instances (id),
    kind TEXT NOT NULL,
    timer BIGINT,
    work_item BIGINT,
    node TEXT NOT NULL,
    due_at TEXT NOT NULL,
    state TEXT NOT NULL,
    fired_at TEXT,
    fired_by TEXT
);
CREATE INDEX wf_timers_due ON wf_timers (state, due_at);
CREATE INDEX wf_timers_instance ON wf_timers (instance_id, state);

-- Every state an instance was in, explained: engine steps and people's actions, in order.
CREATE TABLE wf_history (
    instance_id TEXT NOT NULL REFERENCES wf_instances (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

-- The working-day calendar (工作日历): statutory holidays and make-up working days per year,
-- seeded from the shipped data and entered by administrators when the State Council publishes
-- the next year's dates; `data` is the calendar crate's YearDays document.
CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    data TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
