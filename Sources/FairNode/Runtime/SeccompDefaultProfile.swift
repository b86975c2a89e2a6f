/// The RuntimeDefault seccomp profile: docker's default profile, transcribed from moby's
/// `profiles/seccomp/default.json` (moby/moby commit 00f3d189e420d485e42d15fe494f96d272284e0e),
/// which containerd's RuntimeDefault also follows. Unlisted system calls fail with EPERM.
/// Rules that docker applies only to a capability (`includes.caps`) or only without one
/// (`excludes.caps`) are resolved here against the container's own capability set, as docker
/// does when it builds the filter; rules for architectures other than x86 and arm are left out.
enum SeccompDefaultProfile {
    /// Allowed to every container.
    static let allowed = """
        accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime \
        clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep \
        clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create \
        epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 \
        execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir \
        fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork \
        fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex \
        futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 \
        getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority \
        getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid \
        getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch \
        inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents \
        io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register \
        io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 \
        lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 \
        madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall \
        mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend \
        mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap \
        name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal \
        pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 \
        prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink \
        readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename \
        renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo \
        rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity \
        sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler \
        sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam \
        sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send \
        sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 \
        setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid \
        setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area \
        set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd \
        signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink \
        symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun \
        timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime \
        timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask \
        uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write \
        writev process_vm_readv process_vm_writev ptrace
        """

    /// Allowed only on this architecture.
    static var architectureAllowed: String {
        #if arch(x86_64)
        return "arch_prctl modify_ldt"
        #elseif arch(arm64)
        return "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"
        #else
        return ""
        #endif
    }

    static var architectures: [String] {
        #if arch(x86_64)
        return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        #elseif arch(arm64)
        return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
        #else
        return []
        #endif
    }

    /// Allowed when the container holds the capability.
    static let allowedWithCapability: [(capability: String, names: String)] = [
        ("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
        ("CAP_SYS_ADMIN", """
            bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr \
            move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount \
            umount2 unshare
            """),
        ("CAP_SYS_BOOT", "reboot"),
        ("CAP_SYS_CHROOT", "chroot"),
        ("CAP_SYS_MODULE", "delete_module init_module finit_module"),
        ("CAP_SYS_PACCT", "acct"),
        ("CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"),
        ("CAP_SYS_RAWIO", "iopl ioperm"),
        ("CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"),
        ("CAP_SYS_TTY_CONFIG", "vhangup"),
        ("CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"),
        ("CAP_SYSLOG", "syslog"),
        ("CAP_BPF", "bpf"),
        ("CAP_PERFMON", "perf_event_open"),
    ]

    /// The namespace flags of clone(2) (CLONE_NEWNS … CLONE_NEWNET, CLONE_NEWCGROUP): without
    /// CAP_SYS_ADMIN a container may clone only with none of them set.
    static let namespaceCloneFlags: UInt64 = 2_114_060_288
    static let addressFamilyVsock: UInt64 = 40
    static let enosys: UInt32 = 38

    static func profile(capabilities: Set<String>) -> OCIRuntimeConfig.Seccomp {
        func split(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
        typealias Rule = OCIRuntimeConfig.SeccompRule
        var rules = [Rule(names: split(allowed) + split(architectureAllowed), action: "SCMP_ACT_ALLOW")]
        // AF_VSOCK sockets reach the host past any network namespace.
        rules.append(Rule(names: ["socket"], action: "SCMP_ACT_ALLOW",
                          args: [.init(index: 0, value: addressFamilyVsock, op: "SCMP_CMP_NE")]))
        // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query (0xffffffff).
        for persona: UInt64 in [0, 8, 131_072, 131_080, 4_294_967_295] {
            rules.append(Rule(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: persona, op: "SCMP_CMP_EQ")]))
        }
        for (capability, names) in allowedWithCapability where capabilities.contains(capability) {
            rules.append(Rule(names: split(names), action: "SCMP_ACT_ALLOW"))
        }
        if !capabilities.contains("CAP_SYS_ADMIN") {
            rules.append(Rule(names: ["clone"], action: "SCMP_ACT_ALLOW",
                              args: [.init(index: 0, value: namespaceCloneFlags, op: "SCMP_CMP_MASKED_EQ")]))
            // ENOSYS, not EPERM, so that libc falls back to clone(2), whose flags can be checked.
            rules.append(Rule(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: enosys))
        }
        return OCIRuntimeConfig.Seccomp(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: architectures,
                                        syscalls: rules)
    }
}
