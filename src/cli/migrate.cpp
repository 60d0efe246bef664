#include "cli/migrate.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include "core/str.hpp"

namespace xdpt {
namespace {

struct Run {
    int status = -1;  // exit status, or -1 when it could not run
    std::string out;
};

// Runs `argv` (argv[0] is the name the program sees; `path` the file run) with `input`
// on its stdin; its stdout is captured, its stderr goes to ours.
Run run(const std::string& path, const std::vector<std::string>& argv, const std::string& input) {
    Run r;
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return r;
    pid_t pid = fork();
    if (pid < 0) return r;
    if (pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(path.c_str(), args.data());
        std::fprintf(stderr, "xdptables: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
        _exit(127);
    }
    close(in[0]), close(out[1]);
    // The input is small next to a pipe's reach only for tiny rulesets: write it from a
    // child of our own so that reading the output cannot deadlock against it.
    pid_t writer = fork();
    if (writer == 0) {
        close(out[0]);
        size_t done = 0;
        while (done < input.size()) {
            ssize_t n = write(in[1], input.data() + done, input.size() - done);
            if (n <= 0) break;
            done += size_t(n);
        }
        _exit(0);
    }
    close(in[1]);
    char buf[65536];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) r.out.append(buf, size_t(n));
    close(out[0]);
    int st = 0;
    if (writer > 0) waitpid(writer, &st, 0);
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

// The tables of an iptables-save text with their builtin chains, all ACCEPT and empty:
// what flushes the source once the rules moved.
std::string emptied(const std::string& save) {
    std::istringstream in(save);
    std::string line, out;
    for (bool in_table = false; std::getline(in, line);) {
        if (line.starts_with("*")) {
            out += line + '\n';
            in_table = true;
        } else if (in_table && line.starts_with(":")) {
            const auto sp = line.find(' ');
            const std::string policy = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
            out += line.substr(0, sp) + (policy == "-" ? " -" : " ACCEPT") + " [0:0]\n";
        } else if (line == "COMMIT") {
            out += "COMMIT\n";
            in_table = false;
        }
    }
    return out;
}

}  // namespace

int main_migrate(const std::vector<std::string>& args, const std::string& self, Family family) {
    const FamilySpec& fs = spec_of(family);
    const std::string ours(fs.xdptables);
    std::string from(fs.iptables);
    bool flush_source = false;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--from" && i + 1 < args.size()) {
            const std::string& v = args[++i];
            if (v != "legacy" && v != "nft") {
                std::fprintf(stderr, "xdptables: migrate: --from takes legacy or nft\n");
                return 2;
            }
            from = str(fs.iptables, '-', v);
        } else if (args[i] == "--flush-source") {
            flush_source = true;
        } else {
            std::fprintf(stderr, "xdptables: migrate: unknown argument %s\n"
                                 "usage: xdptables migrate [--from legacy|nft] [--flush-source]\n", args[i].c_str());
            return 2;
        }
    }
    Run saved = run(from + "-save", {from + "-save"}, "");
    if (saved.status != 0) {
        std::fprintf(stderr, "xdptables: migrate: %s-save failed (exit %d)\n", from.c_str(), saved.status);
        return saved.status < 0 ? 1 : saved.status;
    }
    // xdptables-restore: all tables or, at the first bad one, its error and exit status.
    Run restored = run(self, {ours + "-restore"}, saved.out);
    std::fputs(restored.out.c_str(), stdout);
    if (restored.status != 0) {
        std::fprintf(stderr, "xdptables: migrate: nothing was moved; %s's rules are unchanged\n", from.c_str());
        return restored.status;
    }
    Run where = run(self, {ours, "explain"}, "");
    std::fputs(where.out.c_str(), stdout);
    // The summary: rules and policies by where they are judged.
    std::map<std::string, int> count;
    std::istringstream in(where.out);
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("*")) ++count[line.substr(0, line.find(' '))];
    std::printf("migrated from %s-save: %d rules and policies decided in XDP, %d judged by netfilter only\n",
                from.c_str(), count["xdp"], count["netfilter"]);
    if (flush_source) {
        Run flushed = run(from + "-restore", {from + "-restore"}, emptied(saved.out));
        if (flushed.status != 0) {
            std::fprintf(stderr, "xdptables: migrate: flushing %s's rules failed (exit %d)\n", from.c_str(),
                         flushed.status);
            return flushed.status;
        }
        std::printf("%s's tables are flushed (policies ACCEPT)\n", from.c_str());
    } else {
        std::printf("%s's rules are still loaded and judge packets too; flush them "
                    "(or rerun with --flush-source) when xdptables has taken over\n", from.c_str());
    }
    return 0;
}

}  // namespace xdpt
