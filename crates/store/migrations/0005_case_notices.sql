-- Notices of cases are issued (numbered, their content fixed) when the change they announce
-- commits, and rendered to PDF when first read: `case_notices` keeps each notice's content,
-- SM4-encrypted under `key_id` (it names the applicant), and the file id its PDF gets. The PDF
-- is in `files` once rendered; `notice_enc` is empty for notices rendered before this table.
CREATE TABLE case_notices (
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    file_id TEXT NOT NULL UNIQUE,
    notice_enc TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, doc_no)
);

INSERT INTO case_notices (case_id, kind, doc_no, file_id, notice_enc, key_id, created_at)
SELECT case_id, kind, doc_no, file_id, '', '', created_at FROM case_documents;

DROP TABLE case_documents;
