import Foundation

/// Version 4: `runsheet.voided`, where `store void` moves the records of a run or governance log
/// from the first that does not verify onward (docs/TEAMS.md, "Voiding records that do not
/// verify"). The database holds no allowed signers, so it takes a well-formed signature that does
/// not verify; before this version the only way out was the owner's hand-written SQL.
extension StoreSchema {
    static let version4: [String] = [
        // Exactly one of run and log: which chain the rows were cut from. The rows are kept as the
        // database held them (line, hash, prev, actor, db_user, server_time), with who voided them, when and why.
        """
        CREATE TABLE runsheet.voided (
            run text,
            log text CHECK (log IN ('halts', 'closures')),
            seq integer NOT NULL CHECK (seq >= 1),
            line bytea NOT NULL,
            hash text NOT NULL,
            prev text NOT NULL,
            actor text NOT NULL,
            db_user name NOT NULL,
            server_time timestamptz NOT NULL,
            voided_by name NOT NULL DEFAULT session_user,
            voided_at timestamptz NOT NULL DEFAULT now(),
            reason text NOT NULL CHECK (btrim(reason) <> ''),
            CHECK ((run IS NULL) <> (log IS NULL))
        )
        """,
        "CREATE INDEX voided_chain ON runsheet.voided (run, log, seq)",
        // Who voided and when are the database's word, as db_user and server_time are for a row.
        """
        CREATE FUNCTION runsheet.stamp_voided() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            NEW.voided_by := session_user;
            NEW.voided_at := now();
            RETURN NEW;
        END
        $$
        """,
        "CREATE TRIGGER stamp BEFORE INSERT ON runsheet.voided FOR EACH ROW EXECUTE FUNCTION runsheet.stamp_voided()",
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON runsheet.voided FOR EACH ROW EXECUTE FUNCTION runsheet.refuse_change()",
        "CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON runsheet.voided FOR EACH STATEMENT EXECUTE FUNCTION runsheet.refuse_change()",
    ]
}
