import Foundation

/// Version 3: the database refuses a line that is not byte for byte the canonical encoding of its
/// own content (docs/JOURNAL.md, "Canonical encoding"), as `verify` does. Before it, a member could
/// insert by psql a correctly chained and hashed line with a duplicate key or a needless escape,
/// and the run (or governance log) never verified again: nothing could be decided from it.
extension StoreSchema {
    static let version3: [String] = [
        canonicalValue,
        canonicalRecord(function: "canonical_event", fields: eventFields, types: eventTypes),
        canonicalRecord(function: "canonical_governance", fields: governanceFields, types: nil),
        armoredSignature,
        eventCheckVersion2.replacingOccurrences(of: eventHashCheck, with: eventHashCheck + eventCanonicalCheck + eventSignatureCheck),
        governanceCheck
            .replacingOccurrences(of: "CREATE FUNCTION runsheet.check_governance()", with: "CREATE OR REPLACE FUNCTION runsheet.check_governance()")
            .replacingOccurrences(of: governanceHashCheck, with: governanceHashCheck + governanceCanonicalCheck + governanceSignatureCheck),
    ]

    /// `runsheet.armored_signature(text)`: whether a `signature` is written as `ssh-keygen -Y sign`
    /// writes one (docs/JOURNAL.md, "Signatures in the journal"): the BEGIN line, base64 lines
    /// that decode to an `SSHSIG` blob, the END line. Whether it verifies is for `verify`: the
    /// database holds no allowed signers. A line with `"signature":"garbage"` would never verify,
    /// and a log or run that does not verify decides nothing again (append-only: for good).
    static let armoredSignature = """
        CREATE FUNCTION runsheet.armored_signature(sig text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
        DECLARE
            body text;
        BEGIN
            IF sig !~ '^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+\n-----END SSH SIGNATURE-----$' THEN
                RETURN false;
            END IF;
            body := translate(substr(sig, 31, length(sig) - 58), E'\n', '');
            IF body !~ '^([A-Za-z0-9+/]{4})+([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' THEN
                RETURN false;
            END IF;
            RETURN substr(decode(body, 'base64'), 1, 6) = 'SSHSIG'::bytea;
        END
        $$
        """

    /// A `signature` not written as runsheet writes one, or a seal without one (runsheet always signs a seal).
    static let eventSignatureCheck = """
            IF (doc ? 'signature' AND NOT coalesce(runsheet.armored_signature(doc->>'signature'), false))
               OR (doc->>'type' = 'journal.sealed' AND NOT doc ? 'signature') THEN
                RAISE EXCEPTION 'runsheet: event % of run % carries no armored SSH signature where it must (a seal is always signed, and a signature is written as ssh-keygen writes one), so its run would never verify again',
                    NEW.seq, NEW.run USING ERRCODE = 'RS011';
            END IF;

        """

    static let governanceSignatureCheck = """
            IF doc ? 'signature' AND NOT coalesce(runsheet.armored_signature(doc->>'signature'), false) THEN
                RAISE EXCEPTION 'runsheet: record % of the % log carries a signature not written as ssh-keygen writes one, so the log would never verify again',
                    NEW.seq, NEW.log USING ERRCODE = 'RS011';
            END IF;

        """

    /// What the canonical encoding says, for the refusals.
    static let canonicalRule = "a known type and fields, keys in UTF-8 order, no spaces, no needless escapes, whole numbers only"

    static let eventHashCheck = """
                RAISE EXCEPTION 'runsheet: the hash of event % of run % does not match its line', NEW.seq, NEW.run USING ERRCODE = 'RS001';
            END IF;

        """

    static let eventCanonicalCheck = """
            IF runsheet.canonical_event(doc) IS DISTINCT FROM text_line THEN
                RAISE EXCEPTION 'runsheet: event % of run % is not written as runsheet writes an event (\(canonicalRule)), so its run would never verify again',
                    NEW.seq, NEW.run USING ERRCODE = 'RS010';
            END IF;

        """

    static let governanceHashCheck = """
                RAISE EXCEPTION 'runsheet: the hash of record % of the % log does not match its line', NEW.seq, NEW.log USING ERRCODE = 'RS001';
            END IF;

        """

    static let governanceCanonicalCheck = """
            IF runsheet.canonical_governance(doc) IS DISTINCT FROM text_line THEN
                RAISE EXCEPTION 'runsheet: record % of the % log is not written as runsheet writes a record (\(canonicalRule)), so the log would never verify again',
                    NEW.seq, NEW.log USING ERRCODE = 'RS010';
            END IF;

        """

    /// A top-level field of a line: its JSON kind, and whether every line has it.
    struct LineField {
        enum Kind { case string, integer, object }
        var name: String
        var kind: Kind
        var required: Bool
    }

    /// `RunEvent`'s fields (`CanonicalEventWriter`): optional ones are left out when absent, never null.
    static let eventFields: [LineField] = [
        .init(name: "actor", kind: .string, required: true), .init(name: "canonical", kind: .string, required: false),
        .init(name: "data", kind: .object, required: true), .init(name: "hash", kind: .string, required: true),
        .init(name: "host", kind: .string, required: true), .init(name: "login", kind: .string, required: false),
        .init(name: "prev", kind: .string, required: true), .init(name: "seq", kind: .integer, required: true),
        .init(name: "signature", kind: .string, required: false), .init(name: "step", kind: .string, required: false),
        .init(name: "time", kind: .string, required: true), .init(name: "type", kind: .string, required: true),
        .init(name: "uid", kind: .integer, required: false), .init(name: "via", kind: .string, required: true),
    ]

    /// `GovernanceRecord`'s fields.
    static let governanceFields: [LineField] = [
        .init(name: "actor", kind: .string, required: true), .init(name: "canonical", kind: .string, required: false),
        .init(name: "data", kind: .object, required: true), .init(name: "hash", kind: .string, required: true),
        .init(name: "host", kind: .string, required: true), .init(name: "login", kind: .string, required: false),
        .init(name: "prev", kind: .string, required: true), .init(name: "repository", kind: .string, required: false),
        .init(name: "seq", kind: .integer, required: true), .init(name: "signature", kind: .string, required: false),
        .init(name: "time", kind: .string, required: true), .init(name: "type", kind: .string, required: true),
        .init(name: "uid", kind: .integer, required: false), .init(name: "via", kind: .string, required: true),
    ]

    /// The event types of journal format 1.5 (`EventType`): a line of another type does not decode,
    /// so it never verifies. Frozen with the migration; a runsheet that adds a type adds a version.
    static let eventTypes = [
        "run.started", "run.resumed", "run.paused", "run.ended", "step.started", "step.completed", "step.skipped",
        "step.failed", "command.finished", "note", "branch.taken", "cursor.moved", "step.added", "signoff.signed",
        "signoff.rejected", "exception.granted", "review.signed", "step.forced", "gate.waived", "run.changed",
        "command.started", "command.resolved", "lock.taken", "lock.released", "journal.sealed", "notify.failed",
    ]

    /// A whole number as Swift's `Int` writes it, or NULL: JSON numbers runsheet never writes
    /// (fractions, exponents, -0, beyond 64 bits) come out otherwise or not at all.
    static func integerSQL(_ value: String) -> String {
        "CASE WHEN \(value)::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN \(value)::numeric::int8::text END"
    }

    /// `runsheet.canonical(jsonb)`: a value as runsheet's canonical encoding writes it (keys sorted
    /// by their UTF-8 bytes, `,` and `:` alone, strings as PostgreSQL's JSON output escapes them,
    /// which is the encoder's way: `"` `\\` and control characters only, `/` and non-ASCII raw),
    /// or NULL when runsheet could not have written it (a number it does not write; two keys one
    /// Swift string, as `é` and `e` with a combining accent, which decoding merges). One query an
    /// object or array, and a call only for a nested one: a push runs it on every event.
    static let canonicalValue = """
        CREATE FUNCTION runsheet.canonical(value jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
        DECLARE
            written text;
            complete boolean;
            wide boolean;
        BEGIN
            CASE jsonb_typeof(value)
            WHEN 'object' THEN
                IF value = '{}' THEN
                    RETURN '{}';
                END IF;
                SELECT '{' || string_agg(to_jsonb(m.key)::text || ':' || m.encoded, ',' ORDER BY m.key COLLATE "C") || '}',
                       bool_and(m.encoded IS NOT NULL), bool_or(octet_length(m.key) > char_length(m.key))
                    INTO written, complete, wide
                    FROM (SELECT e.key, CASE jsonb_typeof(e.value) WHEN 'object' THEN runsheet.canonical(e.value) WHEN 'array' THEN runsheet.canonical(e.value)
                              WHEN 'number' THEN \(integerSQL("e.value")) ELSE e.value::text END AS encoded
                          FROM jsonb_each(value) AS e) AS m;
                -- Only keys beyond ASCII can be two spellings of one Swift string.
                IF wide AND complete THEN
                    complete := (SELECT count(*) = count(DISTINCT normalize(k, NFC)) FROM jsonb_object_keys(value) AS k);
                END IF;
            WHEN 'array' THEN
                SELECT '[' || coalesce(string_agg(m.encoded, ',' ORDER BY m.at), '') || ']', coalesce(bool_and(m.encoded IS NOT NULL), true)
                    INTO written, complete
                    FROM (SELECT e.at, CASE jsonb_typeof(e.value) WHEN 'object' THEN runsheet.canonical(e.value) WHEN 'array' THEN runsheet.canonical(e.value)
                              WHEN 'number' THEN \(integerSQL("e.value")) ELSE e.value::text END AS encoded
                          FROM jsonb_array_elements(value) WITH ORDINALITY AS e(value, at)) AS m;
            WHEN 'number' THEN
                RETURN \(integerSQL("value"));
            ELSE
                RETURN value::text;
            END CASE;
            RETURN CASE WHEN complete THEN written END;
        END
        $$
        """

    /// `runsheet.<function>(jsonb)`: a line's canonical encoding from its fields in key order, each
    /// only when of its kind (a null or a string seq is left out, so the line differs); NULL without
    /// a required field or, for events, with a type runsheet does not know. An unknown field is
    /// never written, so a line that has one differs too.
    static func canonicalRecord(function: String, fields: [LineField], types: [String]?) -> String {
        precondition(fields.map(\.name) == fields.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        let required = fields.filter(\.required).map { "'\($0.name)'" }.joined(separator: ", ")
        let known = types.map { " AND doc->>'type' = ANY (ARRAY['\($0.joined(separator: "', '"))'])" } ?? ""
        let members = fields.map { field in
            let value = "(doc->'\(field.name)')", key = "'\"\(field.name)\":'"
            switch field.kind {
            case .string: return "CASE jsonb_typeof(\(value)) WHEN 'string' THEN \(key) || \(value)::text END"
            case .integer: return "CASE jsonb_typeof(\(value)) WHEN 'number' THEN \(key) || \(integerSQL(value)) END"
            case .object: return "CASE jsonb_typeof(\(value)) WHEN 'object' THEN \(key) || runsheet.canonical(\(value)) END"
            }
        }
        return """
            CREATE FUNCTION runsheet.\(function)(doc jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
            BEGIN
                RETURN CASE WHEN jsonb_typeof(doc) = 'object' AND doc ?& ARRAY[\(required)]\(known) THEN '{' || concat_ws(',',
                    \(members.joined(separator: ",\n            ")))
                    || '}' END;
            END
            $$
            """
    }
}
