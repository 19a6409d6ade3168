-- Offers of tasks that are no longer open stay (they record who could take the task) but are
-- marked: the inbox lists the live offers to the caller's roles through the indexes below,
-- however many tasks were offered to those roles before. A transition marks the offers of the
-- tasks it closes in the same transaction.
ALTER TABLE wf_offers ADD COLUMN live BIGINT NOT NULL DEFAULT 1;
UPDATE wf_offers SET live = 0
    WHERE task_id IN (SELECT id FROM wf_tasks WHERE state NOT IN ('open', 'delegated'));
DROP INDEX wf_offers_org_role;
DROP INDEX wf_offers_user;
CREATE INDEX wf_offers_org_role ON wf_offers (org, role, live);
CREATE INDEX wf_offers_user ON wf_offers (username, live);
