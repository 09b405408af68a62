@testable import RunsheetPostgres
import RunsheetCore
import Testing

/// Schema version 3 refuses a line whose event type runsheet does not know (it would never
/// verify): a runsheet that adds an event type must add a schema version that knows it.
@Suite struct StoreSchemaEventTypesTests {
    @Test func theStoreKnowsEveryEventType() {
        #expect(StoreSchema.eventTypes == EventType.allCases.map(\.rawValue))
    }

    @Test func bothTriggersCarryTheCanonicalCheck() {
        let statements = StoreSchema.version3.joined(separator: "\n")
        #expect(statements.contains("IF runsheet.canonical_event(doc) IS DISTINCT FROM text_line THEN"))
        #expect(statements.contains("IF runsheet.canonical_governance(doc) IS DISTINCT FROM text_line THEN"))
        #expect(statements.components(separatedBy: "ERRCODE = 'RS010'").count == 3)
    }
}
