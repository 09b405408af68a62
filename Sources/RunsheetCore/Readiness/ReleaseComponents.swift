import Foundation

extension ReadinessReport {
    /// A configuration item a release changes: its owner role, who holds it, and the release's
    /// items whose runbooks change it.
    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        /// nil when the inventory does not list it (`check` reports that as an error).
        public var owner: String?
        public var owners: [String]
        public var criticality: String?
        public var items: [String]

        /// The items the evidence's runbooks change, in the order first named.
        static func touched(by evidence: [Evidence]) -> [Component]? {
            var found: [Component] = []
            for entry in evidence {
                guard let runbook = entry.runbook else { continue }
                for name in runbook.touchedComponents {
                    let listed = entry.governance.inventory?.item(name)
                    let key = EnvironmentLock.Key.canonical(name)
                    if let index = found.firstIndex(where: { EnvironmentLock.Key.canonical($0.name) == key }) {
                        if !found[index].items.contains(entry.item.title) { found[index].items.append(entry.item.title) }
                        continue
                    }
                    let holders = listed.flatMap { entry.governance.roles?.members[$0.owner] } ?? []
                    var owners: [String] = []
                    for person in holders where !owners.contains(where: { PersonName.same($0, person) }) { owners.append(person) }
                    found.append(Component(name: listed?.name ?? name, owner: listed?.owner, owners: owners,
                                           criticality: listed?.criticality.rawValue, items: [entry.item.title]))
                }
            }
            return found.isEmpty ? nil : found
        }
    }
}
