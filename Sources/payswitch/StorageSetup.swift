import ClusterStorage
import Foundation
import SQLiteStorage
import SecurityModule
import Switch

/// Opens what a configuration's `storage:` names: the data key (made on first use) and the SQLite
/// database (with its folder, readable by its owner only), or the PostgreSQL database its
/// `postgres://` URL names.
enum StorageSetup {
    /// `member`: the cluster node the storage writes for (its queued items and claims are the node's).
    static func open(_ storage: StorageConfiguration?, member: NodeLease? = nil) throws -> (storage: any SwitchStorage, protection: DataProtection)? {
        guard let storage else { return nil }
        let postgres = StorageConfiguration.isPostgres(storage.path)
        for path in postgres ? [storage.keyFile] : [storage.path, storage.keyFile] {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        }
        let key = try DataProtection.loadOrCreateKey(path: storage.keyFile)
        let opened: any SwitchStorage = postgres
            ? try ClusterStore.switchStorage(storage.path, member: member)
            : try SQLiteStorage(path: storage.path, synchronous: storage.synchronous)
        return (opened, try DataProtection(key: key.key))
    }
}

/// Opens what a configuration's `security:` names: the key store, with the master key from its
/// file or the environment.
enum SecuritySetup {
    static func open(_ security: SecurityConfiguration?) throws -> KeyStore? {
        guard let security else { return nil }
        return try KeyStore.load(path: security.keyStore, master: try MasterKey.load(file: security.masterKeyFile))
    }
}
