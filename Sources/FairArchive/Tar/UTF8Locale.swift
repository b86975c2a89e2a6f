#if canImport(Glibc)
import Glibc
#endif

/// libarchive converts entry names between UTF-8 and the locale's character set. In the "C"
/// locale (the default of a process, and of most CI jobs) that conversion fails for any
/// non-ASCII name, so tar handles switch the character type to C.UTF-8 first. Only LC_CTYPE is
/// touched: messages, numbers and collation stay as they were.
enum UTF8Locale {
    static let ensured: Void = {
        let codeset = nl_langinfo(nl_item(CODESET)).map { String(cString: $0) } ?? ""
        if codeset.uppercased() != "UTF-8" {
            if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "en_US.UTF-8") }
        }
    }()
}
