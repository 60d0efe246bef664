// -m time revision 0: dates, daytimes, month days and weekdays as libxt_time reads and
// prints them, and the stored form that keeps what iptables-save leaves out.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_time.h>

#include <algorithm>
#include <cstring>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

ExtRun time_run(std::string_view options) { return run(match_time, options); }

TEST_CASE("time: forms, save and list text") {
    auto r = time_run("--timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2,3,4,5 --weekdays Mon,Fri,Sun "
                      "--datestart 2001-02-03T04:05:06 --datestop 2012-09-08T09:06:05 --kerneltz");
    CHECK(r.save == " --timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2,3,4,5 --weekdays Mon,Fri,Sun "
                    "--datestart 2001-02-03T04:05:06 --datestop 2012-09-08T09:06:05 --kerneltz");
    CHECK(r.print == " TIME from 01:02:03 to 04:05:06 on Mon,Fri,Sun on 1st,2nd,3rd,4th,5th starting from "
                     "2001-02-03 04:05:06 until date 2012-09-08 09:06:05");
    r = time_run("");
    CHECK(r.save == " --datestop 2038-01-19T03:14:07");  // iptables-save always prints the stop
    CHECK(r.print == " TIME UTC");
    CHECK(time_run("--datestart 2000-02-31").save == " --datestart 2000-03-02T00:00:00 --datestop 2038-01-19T03:14:07");
    CHECK(time_run("--datestart 2000-00-00").save == " --datestart 1999-11-30T00:00:00 --datestop 2038-01-19T03:14:07");
    CHECK(time_run("--datestop 1970-01-01").save == "");
    CHECK(time_run("--datestop 1970-01-01").print == " TIME until date UTC");
    CHECK(time_run("--monthdays 1,31,0").save == " --monthdays 1,31 --datestop 2038-01-19T03:14:07");
    CHECK(time_run("! --monthdays 2,22,3,23,11").print ==
          " TIME on 1st,4th,5th,6th,7th,8th,9th,10th,12nd,13rd,14th,15th,16th,17th,18th,19th,20th,21st,24th,25th,"
          "26th,27th,28th,29th,30th,31st UTC");
    CHECK(time_run("--monthdays 123").save == " --monthdays 12 --datestop 2038-01-19T03:14:07");
    CHECK(time_run("--weekdays 8").print == " TIME on  UTC");
    CHECK(time_run("! --weekdays Mo,Tuesday,7,Sa").save == " --weekdays Wed,Thu,Fri --datestop 2038-01-19T03:14:07");
    CHECK(time_run("--timestart 22:00 --timestop 04:00:01 --contiguous").print ==
          " TIME from 22:00:00 to 04:00:01 UTC contiguous");
    r = time_run("--localtz");
    CHECK(r.print == " TIME");
    CHECK(r.notices.starts_with("WARNING: --localtz is being replaced by --kerneltz"));
}

// Options written "--name arg" (an argument "" for an empty one), "!" before an option.
std::vector<std::pair<std::string, std::string>> options(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> v;
    std::vector<std::string> w;
    for (size_t p = 0; p < text.size();) {
        size_t q = std::min(text.find(' ', p), text.size());
        if (q > p) w.emplace_back(text.substr(p, q - p));
        p = q + 1;
    }
    for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] == "!" || w[i] == "--kerneltz" || w[i] == "--contiguous") {
            v.emplace_back(w[i], "");
            continue;
        }
        std::string arg = i + 1 < w.size() ? w[++i] : "";
        v.emplace_back(w[i - 1], arg == "\"\"" ? "" : arg);
    }
    return v;
}

TEST_CASE("time: the stored form reads back to the same structure") {
    for (const char* o : {"--monthdays 1,31,0", "--weekdays 32", "--monthdays 1,,2", "--datestop 1970-01-01",
                          "! --weekdays 1,2,3,4,5,6,7", "--monthdays \"\" --kerneltz --datestart 2001"}) {
        CAPTURE(o);
        ExtInst first, again;
        REQUIRE(run_ext(&match_time, options(o), {}, "filter", &first).ok);
        std::string exact;
        first.data->save_exact(exact);
        CAPTURE(exact);
        REQUIRE(run_ext(&match_time, options(exact), {}, "filter", &again).ok);
        xt_time_info a, b;
        xt_blob(first, a);
        xt_blob(again, b);
        CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    }
}

TEST_CASE("time: refusals, with iptables' messages") {
    CHECK(time_run("--timestart 02:00 --timestop 04:00:01 --contiguous").error ==
          "time: --contiguous only makes sense when stoptime is smaller than starttime");
    CHECK(time_run("--timestart 25:00").error ==
          "invalid time \"25:00\" specified, should be hh:mm[:ss] format and within the boundaries");
    CHECK(time_run("--timestart 02:60").error ==
          "invalid time \"60\" specified, should be hh:mm[:ss] format and within the boundaries");
    CHECK(time_run("--timestop 2:3:4x").error ==
          "invalid time \"4x\" specified, should be hh:mm[:ss] format and within the boundaries");
    CHECK(time_run("--datestart 2039").error ==
          "Invalid date \"2039\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]");
    CHECK(time_run("--datestart 2000-1-2T3:4:5x").error ==
          "Invalid date \"2000-1-2T3:4:5x\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]");
    CHECK(time_run("--monthdays 32").error == "32 is not a valid day for --monthdays");
    CHECK(time_run("--monthdays 0x1f").error == "0x is not a valid day for --monthdays");
    CHECK(time_run("--weekdays 0").error == "No, the week does NOT begin with Sunday.");
    CHECK(time_run("--weekdays mon").error == "mon is not a valid day specifier");
    CHECK(time_run("--utc --kerneltz").error == "time: option \"--utc\" cannot be used together with \"--kerneltz\".\n");
}

}  // namespace
}  // namespace xdpt::test
