import Foundation

/// The store's tables, as versioned migrations (docs/TEAMS.md, "What the database guarantees").
///
/// Each migration is a list of single statements (postgres-nio speaks the extended protocol, one
/// statement a query). `store init` runs those above the recorded version in one transaction, so
/// running it again changes nothing, then sets the role's grants to exactly `grants(role:)`.
public enum StoreSchema {
    /// The version this runsheet creates and uses.
    public static let version = 4

    /// Migrations by the version they lead to; `migrations[0]` makes version 1.
    static let migrations: [[String]] = [version1, version2, version3, version4]

    static let version1: [String] = [
        """
        CREATE TABLE runsheet.store (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            version integer NOT NULL,
            role name NOT NULL,
            upgraded_at timestamptz NOT NULL DEFAULT now(),
            upgraded_by name NOT NULL DEFAULT session_user
        )
        """,
        // Which person each database user is (store grant): the trigger holds events to it.
        """
        CREATE TABLE runsheet.members (
            db_user name PRIMARY KEY,
            person text NOT NULL CHECK (person <> ''),
            granted_at timestamptz NOT NULL DEFAULT now(),
            granted_by name NOT NULL DEFAULT session_user
        )
        """,
        // pushed: the run came from a folder (store push); its first pushed_through events were
        // written elsewhere, so their actors are claims the database did not check.
        """
        CREATE TABLE runsheet.runs (
            run text PRIMARY KEY CHECK (run <> ''),
            pushed boolean NOT NULL DEFAULT false,
            pushed_through integer NOT NULL DEFAULT 0 CHECK (pushed_through >= 0 AND (pushed OR pushed_through = 0)),
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE runsheet.events (
            run text NOT NULL REFERENCES runsheet.runs (run),
            seq integer NOT NULL CHECK (seq >= 1),
            line bytea NOT NULL,
            hash text NOT NULL,
            prev text NOT NULL,
            actor text NOT NULL,
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run, seq)
        )
        """,
        """
        CREATE TABLE runsheet.blobs (
            sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            content bytea NOT NULL,
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now(),
            CHECK (encode(sha256(content), 'hex') = sha256)
        )
        """,
        // The files of a run by kind: runbook, include and rule (as the run started), output (command logs).
        """
        CREATE TABLE runsheet.run_files (
            run text NOT NULL REFERENCES runsheet.runs (run),
            kind text NOT NULL CHECK (kind IN ('runbook', 'include', 'rule', 'output')),
            path text NOT NULL CHECK (path <> ''),
            sha256 text NOT NULL REFERENCES runsheet.blobs (sha256),
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run, kind, path)
        )
        """,
        // Who and when are the database's word, whatever an INSERT says.
        """
        CREATE FUNCTION runsheet.stamp() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            NEW.db_user := session_user;
            NEW.server_time := now();
            RETURN NEW;
        END
        $$
        """,
        "CREATE TRIGGER stamp BEFORE INSERT ON runsheet.runs FOR EACH ROW EXECUTE FUNCTION runsheet.stamp()",
        "CREATE TRIGGER stamp BEFORE INSERT ON runsheet.blobs FOR EACH ROW EXECUTE FUNCTION runsheet.stamp()",
        "CREATE TRIGGER stamp BEFORE INSERT ON runsheet.run_files FOR EACH ROW EXECUTE FUNCTION runsheet.stamp()",
        eventCheck,
        "CREATE TRIGGER check_event BEFORE INSERT ON runsheet.events FOR EACH ROW EXECUTE FUNCTION runsheet.check_event()",
        // Nothing changes or removes an event, whoever asks (the owner can drop the trigger, and that shows).
        """
        CREATE FUNCTION runsheet.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'runsheet: the events of a run are append-only; % is refused', TG_OP USING ERRCODE = 'RS005';
        END
        $$
        """,
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON runsheet.events FOR EACH ROW EXECUTE FUNCTION runsheet.refuse_change()",
        "CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON runsheet.events FOR EACH STATEMENT EXECUTE FUNCTION runsheet.refuse_change()",
        // A pushed run's unchecked events come in the transaction that creates it, or not at all.
        """
        CREATE FUNCTION runsheet.check_pushed_run() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            present integer;
        BEGIN
            SELECT count(*) INTO present FROM runsheet.events WHERE run = NEW.run;
            IF NEW.pushed AND present < NEW.pushed_through THEN
                RAISE EXCEPTION 'runsheet: run % was pushed with % events, but only % came with it', NEW.run, NEW.pushed_through, present
                    USING ERRCODE = 'RS006';
            END IF;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE CONSTRAINT TRIGGER pushed_run_complete AFTER INSERT ON runsheet.runs
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION runsheet.check_pushed_run()
        """,
    ]

    /// The event check: the line is JSON whose seq, hash, prev and actor are the row's; the hash is
    /// the SHA-256 of the line with its own hash emptied; it follows the run's head; and, past a
    /// pushed run's imported events, its actor is the person mapped to `session_user`.
    /// Version 2: who holds a session lock (a run's lease, a service and environment, a
    /// configuration item). The lock itself is a session advisory lock of the holder's connection,
    /// dropped when it ends; a row only names the last holder for a refusal, so it may be rewritten.
    static let version2: [String] = [
        """
        CREATE TABLE runsheet.session_locks (
            kind text NOT NULL CHECK (kind IN ('lease', 'environment', 'item')),
            key text NOT NULL,
            run text NOT NULL,
            holder text NOT NULL,
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, key)
        )
        """,
        "CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON runsheet.session_locks FOR EACH ROW EXECUTE FUNCTION runsheet.stamp()",
        // The governance logs of the store (halts, closures): lines as `.runsheet/halts.jsonl`
        // and `closures.jsonl` hold them, one hash chain per log, checked as events are.
        """
        CREATE TABLE runsheet.governance (
            log text NOT NULL CHECK (log IN ('halts', 'closures')),
            seq integer NOT NULL CHECK (seq >= 1),
            line bytea NOT NULL,
            hash text NOT NULL,
            prev text NOT NULL,
            actor text NOT NULL,
            db_user name NOT NULL DEFAULT session_user,
            server_time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (log, seq)
        )
        """,
        governanceCheck,
        "CREATE TRIGGER check_record BEFORE INSERT ON runsheet.governance FOR EACH ROW EXECUTE FUNCTION runsheet.check_governance()",
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON runsheet.governance FOR EACH ROW EXECUTE FUNCTION runsheet.refuse_change()",
        "CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON runsheet.governance FOR EACH STATEMENT EXECUTE FUNCTION runsheet.refuse_change()",
        // Only the session holding a run's lease drives it: every event but the acts of others
        // (sign-offs, rejections, waivers, exceptions, reviews, seals) needs the lease held by
        // the inserting connection; and a run's files come with its creation or from that session.
        eventCheckVersion2,
        fileCheck,
        "CREATE TRIGGER check_file BEFORE INSERT ON runsheet.run_files FOR EACH ROW EXECUTE FUNCTION runsheet.check_file()",
    ]

    /// `check_event` as version 2 made it: `eventCheck` with the lease rule.
    static let eventCheckVersion2 = eventCheck
        .replacingOccurrences(of: "CREATE FUNCTION runsheet.check_event()", with: "CREATE OR REPLACE FUNCTION runsheet.check_event()")
        .replacingOccurrences(of: leaseAnchor, with: leaseRule + leaseAnchor)

    /// The event types anyone mapped may append to a run another session drives.
    static let othersActs = ["signoff.signed", "signoff.rejected", "exception.granted", "review.signed", "gate.waived", "journal.sealed"]

    /// Where the lease rule goes in `check_event`: after the member check, before RETURN.
    static let leaseAnchor = """
                END IF;
            END IF;
            RETURN NEW;
        END
        $$
        """

    static let leaseRule = """
                END IF;
                IF NOT (doc->>'type' = ANY (ARRAY['\(othersActs.joined(separator: "', '"))'])) AND NOT EXISTS (
                    SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                    AND classid = hashtext('runsheet.lease')::oid AND objid = hashtext(NEW.run)::oid AND objsubid = 2) THEN
                    RAISE EXCEPTION 'runsheet: event % of run % is a %, which only the session driving the run writes, and this connection does not hold the run''s lease',
                        NEW.seq, NEW.run, coalesce(doc->>'type', 'event') USING ERRCODE = 'RS007';

        """

    /// A run's files come in the transaction that creates the run (push, run), or later, command
    /// output logs only, from the session holding the run's lease.
    static let fileCheck = """
        CREATE FUNCTION runsheet.check_file() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            NEW.db_user := session_user;
            NEW.server_time := now();
            IF EXISTS (SELECT 1 FROM runsheet.runs WHERE run = NEW.run AND server_time = now() AND db_user = session_user) THEN
                RETURN NEW;
            END IF;
            IF NEW.kind = 'output' AND EXISTS (
                SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                AND classid = hashtext('runsheet.lease')::oid AND objid = hashtext(NEW.run)::oid AND objsubid = 2) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'runsheet: the % file % of run % comes with the run''s creation or from the session driving it, and this connection does neither',
                NEW.kind, NEW.path, NEW.run USING ERRCODE = 'RS008';
        END
        $$
        """

    static let governanceCheck = """
        CREATE FUNCTION runsheet.check_governance() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            doc jsonb;
            text_line text;
            unsealed text;
            head_seq integer;
            head_hash text;
            mapped text;
        BEGIN
            NEW.db_user := session_user;
            NEW.server_time := now();
            BEGIN
                text_line := convert_from(NEW.line, 'UTF8');
                doc := text_line::jsonb;
            EXCEPTION WHEN others THEN
                RAISE EXCEPTION 'runsheet: record % of the % log is not a JSON line', NEW.seq, NEW.log USING ERRCODE = 'RS001';
            END;
            IF jsonb_typeof(doc) <> 'object' OR doc->>'seq' IS DISTINCT FROM NEW.seq::text OR doc->>'hash' IS DISTINCT FROM NEW.hash
               OR doc->>'prev' IS DISTINCT FROM NEW.prev OR doc->>'actor' IS DISTINCT FROM NEW.actor THEN
                RAISE EXCEPTION 'runsheet: the seq, hash, prev or actor of record % of the % log differ from its line', NEW.seq, NEW.log
                    USING ERRCODE = 'RS001';
            END IF;
            unsealed := regexp_replace(text_line, '^(.*)"hash":"[0-9a-f]{64}"', '\\1"hash":""');
            IF NEW.hash !~ '^[0-9a-f]{64}$' OR encode(sha256(convert_to(unsealed, 'UTF8')), 'hex') <> NEW.hash THEN
                RAISE EXCEPTION 'runsheet: the hash of record % of the % log does not match its line', NEW.seq, NEW.log USING ERRCODE = 'RS001';
            END IF;
            -- A record's own time is what lifts and readiness judge it by: it must be the server's, give or take five minutes.
            BEGIN
                IF doc->>'time' IS NULL OR abs(extract(epoch FROM ((doc->>'time')::timestamptz - now()))) > 300 THEN
                    RAISE EXCEPTION 'runsheet: record % of the % log is dated %, and the server''s time is %; a record is written when it is dated',
                        NEW.seq, NEW.log, doc->>'time', now() USING ERRCODE = 'RS009';
                END IF;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
                RAISE EXCEPTION 'runsheet: record % of the % log has no readable time', NEW.seq, NEW.log USING ERRCODE = 'RS009';
            END;
            SELECT seq, hash INTO head_seq, head_hash FROM runsheet.governance WHERE log = NEW.log ORDER BY seq DESC LIMIT 1;
            IF NOT FOUND THEN
                head_seq := 0;
                head_hash := '';
            END IF;
            IF NEW.seq <> head_seq + 1 OR NEW.prev <> head_hash THEN
                RAISE EXCEPTION 'runsheet: record % of the % log does not follow its head, record %', NEW.seq, NEW.log, head_seq
                    USING ERRCODE = 'RS002';
            END IF;
            SELECT person INTO mapped FROM runsheet.members WHERE db_user = session_user;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'runsheet: database user % is not mapped to a person (the owner runs: runsheet store grant PERSON %)',
                    session_user, session_user USING ERRCODE = 'RS003';
            END IF;
            IF doc->>'canonical' IS DISTINCT FROM mapped OR lower(normalize(btrim(doc->>'actor'), NFKC)) IS DISTINCT FROM mapped THEN
                RAISE EXCEPTION 'runsheet: record % of the % log is by %, but database user % is %; a member writes records only in their own name',
                    NEW.seq, NEW.log, coalesce(doc->>'actor', 'nobody'), session_user, mapped USING ERRCODE = 'RS004';
            END IF;
            RETURN NEW;
        END
        $$
        """

    static let eventCheck = """
        CREATE FUNCTION runsheet.check_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            doc jsonb;
            text_line text;
            unsealed text;
            head_seq integer;
            head_hash text;
            through integer;
            mapped text;
        BEGIN
            NEW.db_user := session_user;
            NEW.server_time := now();
            BEGIN
                text_line := convert_from(NEW.line, 'UTF8');
                doc := text_line::jsonb;
            EXCEPTION WHEN others THEN
                RAISE EXCEPTION 'runsheet: event % of run % is not a JSON journal line', NEW.seq, NEW.run USING ERRCODE = 'RS001';
            END;
            IF jsonb_typeof(doc) <> 'object' OR doc->>'seq' IS DISTINCT FROM NEW.seq::text OR doc->>'hash' IS DISTINCT FROM NEW.hash
               OR doc->>'prev' IS DISTINCT FROM NEW.prev OR doc->>'actor' IS DISTINCT FROM NEW.actor THEN
                RAISE EXCEPTION 'runsheet: the seq, hash, prev or actor of event % of run % differ from its line', NEW.seq, NEW.run
                    USING ERRCODE = 'RS001';
            END IF;
            -- The last "hash":"…" is the event's own: data comes before it, and strings escape their quotes.
            unsealed := regexp_replace(text_line, '^(.*)"hash":"[0-9a-f]{64}"', '\\1"hash":""');
            IF NEW.hash !~ '^[0-9a-f]{64}$' OR encode(sha256(convert_to(unsealed, 'UTF8')), 'hex') <> NEW.hash THEN
                RAISE EXCEPTION 'runsheet: the hash of event % of run % does not match its line', NEW.seq, NEW.run USING ERRCODE = 'RS001';
            END IF;
            SELECT pushed_through INTO through FROM runsheet.runs WHERE run = NEW.run;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'runsheet: run % is not in the store', NEW.run USING ERRCODE = 'RS002';
            END IF;
            SELECT seq, hash INTO head_seq, head_hash FROM runsheet.events WHERE run = NEW.run ORDER BY seq DESC LIMIT 1;
            IF NOT FOUND THEN
                head_seq := 0;
                head_hash := '';
            END IF;
            IF NEW.seq <> head_seq + 1 OR NEW.prev <> head_hash THEN
                RAISE EXCEPTION 'runsheet: event % of run % does not follow the run''s head, event % (its seq must be % and its prev %)',
                    NEW.seq, NEW.run, head_seq, head_seq + 1, CASE WHEN head_hash = '' THEN 'empty' ELSE head_hash END
                    USING ERRCODE = 'RS002';
            END IF;
            IF NEW.seq > through THEN
                SELECT person INTO mapped FROM runsheet.members WHERE db_user = session_user;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'runsheet: database user % is not mapped to a person (the owner runs: runsheet store grant PERSON %)',
                        session_user, session_user USING ERRCODE = 'RS003';
                END IF;
                IF doc->>'canonical' IS DISTINCT FROM mapped OR lower(normalize(btrim(doc->>'actor'), NFKC)) IS DISTINCT FROM mapped THEN
                    RAISE EXCEPTION 'runsheet: event % of run % is by %, but database user % is %; a member writes events only in their own name',
                        NEW.seq, NEW.run, coalesce(doc->>'actor', 'nobody'), session_user, mapped USING ERRCODE = 'RS004';
                END IF;
            END IF;
            RETURN NEW;
        END
        $$
        """

    /// The tables runsheet's role reads, and those it appends to: no UPDATE, DELETE or TRUNCATE anywhere
    /// (`voided` is read only: the owner's `store void` alone writes it).
    static let readable = ["store", "members", "runs", "events", "blobs", "run_files", "governance", "voided"]
    static let appendable = ["runs", "events", "blobs", "run_files", "governance"]

    /// Statements that leave `role` with exactly the grants runsheet needs, and PUBLIC with none.
    static func grants(role: String) -> [String] {
        let quoted = quoteIdentifier(role)
        var statements = [
            "REVOKE ALL ON SCHEMA runsheet FROM PUBLIC",
            "REVOKE ALL ON ALL TABLES IN SCHEMA runsheet FROM PUBLIC, \(quoted)",
            "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA runsheet FROM PUBLIC, \(quoted)",
            "GRANT USAGE ON SCHEMA runsheet TO \(quoted)",
        ]
        statements.append("GRANT SELECT ON \(readable.map { "runsheet." + $0 }.joined(separator: ", ")) TO \(quoted)")
        statements.append("GRANT INSERT ON \(appendable.map { "runsheet." + $0 }.joined(separator: ", ")) TO \(quoted)")
        // Not the log: a row only names who holds a session lock now (see version2).
        statements.append("GRANT SELECT, INSERT, UPDATE ON runsheet.session_locks TO \(quoted)")
        return statements
    }

    /// An SQL identifier in double quotes, inner quotes doubled.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
