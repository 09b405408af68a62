import Foundation

/// Which run store a command uses: `--store URL`, else `RUNSHEET_STORE`, else `store:` in
/// `.runsheet/config.yaml`, else the folder store (runs/ folders, as before).
public enum StoreChoice: Sendable, Equatable {
    case folder
    /// A PostgreSQL store, by its URL (which never holds a password), and where the URL came from.
    case postgres(url: String, from: Source)

    public enum Source: String, Sendable, Equatable {
        case flag = "--store"
        case environment = "RUNSHEET_STORE"
        case configuration = ".runsheet/config.yaml"
    }

    /// The store to use. `configured` is the `store:` value of `.runsheet/config.yaml` (read by its
    /// own reader), nil when the file or the key is absent. An empty value counts as not given,
    /// and the word `folder` chooses the folder store explicitly at any level.
    public static func resolve(flag: String?, environment: [String: String], configured: String?) -> StoreChoice {
        let candidates: [(String?, Source)] = [(flag, .flag), (environment["RUNSHEET_STORE"], .environment), (configured, .configuration)]
        for (value, source) in candidates {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            return value == "folder" ? .folder : .postgres(url: value, from: source)
        }
        return .folder
    }
}
