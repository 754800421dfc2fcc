// bench_loopback_floor: what one loopback write costs the writing thread on this machine, the
// physical floor under the engine's fan-out (docs/performance.md, issue 23).
//
//   bench_loopback_floor [--connections N] [--frame B] [--batch K[,K...]] [--seconds S] [--runs R]
//
// N TCP connections over 127.0.0.1 (1000); one writer thread sends frames of B bytes (300, about
// a twilsock notification) to them in turn, K frames per sendmsg() (1,2,4,8: one iovec each, as
// TwilsockConnection::writeWire does), non-blocking, for S seconds (3); one reader thread drains
// every connection with epoll and 64 KiB reads, as a fast subscriber would. Printed per K, median
// of R runs (3): frames/s, writes/s, and the writer thread's CPU per write and per frame (its
// CLOCK_THREAD_CPUTIME_ID, which includes the kernel's loopback receive path: on loopback the
// receiver's TCP processing runs inside the sender's system call), and the reader's per frame.
// A write that the kernel refuses (EAGAIN) is counted and skipped: the floor is what a write
// costs when it goes through.

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Options
{
    int connections = 1000;
    int frame = 300;
    std::vector<int> batches{1, 2, 4, 8};
    double seconds = 3;
    int runs = 3;
};

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "bench_loopback_floor: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

double threadCpuSeconds()
{
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

std::vector<int> parseList(const char *text)
{
    std::vector<int> out;
    for (const char *p = text; *p;) {
        char *end = nullptr;
        const long value = std::strtol(p, &end, 10);
        if (end == p || value < 1 || value > 64) {
            std::fprintf(stderr, "bench_loopback_floor: --batch takes numbers 1..64\n");
            std::exit(2);
        }
        out.push_back(int(value));
        p = *end == ',' ? end + 1 : end;
    }
    return out;
}

Options parse(int argc, char **argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> const char * {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_loopback_floor: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--connections")
            options.connections = std::max(1, std::atoi(value()));
        else if (arg == "--frame")
            options.frame = std::max(1, std::atoi(value()));
        else if (arg == "--batch")
            options.batches = parseList(value());
        else if (arg == "--seconds")
            options.seconds = std::max(0.1, std::atof(value()));
        else if (arg == "--runs")
            options.runs = std::max(1, std::atoi(value()));
        else {
            std::fprintf(stderr,
                "usage: bench_loopback_floor [--connections N] [--frame B] [--batch K,...] "
                "[--seconds S] [--runs R]\n");
            std::exit(2);
        }
    }
    return options;
}

// Connected pairs over loopback: writers[i] (the server's side) to readers[i].
void connectPairs(int count, std::vector<int> &writers, std::vector<int> &readers)
{
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        fail("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || ::listen(listener, 4096) != 0
        || ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        fail("listen");
    for (int i = 0; i < count; ++i) {
        const int client = ::socket(AF_INET, SOCK_STREAM, 0);
        if (client < 0
            || ::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
            fail("connect");
        const int server = ::accept(listener, nullptr, nullptr);
        if (server < 0)
            fail("accept");
        const int one = 1;
        ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // as Qt's sockets
        ::fcntl(server, F_SETFL, ::fcntl(server, F_GETFL) | O_NONBLOCK);
        ::fcntl(client, F_SETFL, ::fcntl(client, F_GETFL) | O_NONBLOCK);
        writers.push_back(server);
        readers.push_back(client);
    }
    ::close(listener);
}

struct Result
{
    double framesPerSecond = 0;
    double writesPerSecond = 0;
    double writerUsPerWrite = 0;
    double writerUsPerFrame = 0;
    double readerUsPerFrame = 0;
    long long refused = 0;
};

Result measure(const Options &options, int batch, const std::vector<int> &writers,
    const std::vector<int> &readers)
{
    std::atomic<bool> stop{false};
    std::atomic<long long> bytesRead{0};
    std::atomic<double> readerCpu{0};
    const int epoll = ::epoll_create1(0);
    for (const int fd : readers) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    std::thread reader([&] {
        const double started = threadCpuSeconds();
        std::vector<epoll_event> events(256);
        std::vector<char> buffer(64 * 1024);
        long long total = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            const int ready = ::epoll_wait(epoll, events.data(), int(events.size()), 10);
            for (int i = 0; i < ready; ++i) {
                for (;;) {
                    const ssize_t got = ::read(events[i].data.fd, buffer.data(), buffer.size());
                    if (got <= 0)
                        break;
                    total += got;
                }
            }
        }
        bytesRead = total;
        readerCpu = threadCpuSeconds() - started;
    });

    const std::string frame(size_t(options.frame), 'x');
    std::vector<iovec> parts(size_t(batch), iovec{const_cast<char *>(frame.data()), frame.size()});
    long long writes = 0;
    long long refused = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(options.seconds);
    const double started = threadCpuSeconds();
    const auto wallStarted = std::chrono::steady_clock::now();
    size_t next = 0;
    while (true) {
        // The clock is read once per sweep over every connection, not per write.
        if (next == 0 && std::chrono::steady_clock::now() >= deadline)
            break;
        msghdr message{};
        message.msg_iov = parts.data();
        message.msg_iovlen = parts.size();
        const ssize_t written = ::sendmsg(writers[next], &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written == ssize_t(frame.size()) * batch)
            ++writes;
        else
            ++refused;
        next = (next + 1) % writers.size();
    }
    const double writerCpu = threadCpuSeconds() - started;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStarted).count();
    // Let the reader catch up before it stops.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    reader.join();
    ::close(epoll);

    Result result;
    const double frames = double(writes) * batch;
    result.framesPerSecond = frames / wall;
    result.writesPerSecond = double(writes) / wall;
    result.writerUsPerWrite = writes ? writerCpu * 1e6 / double(writes) : 0;
    result.writerUsPerFrame = frames > 0 ? writerCpu * 1e6 / frames : 0;
    const double framesRead = double(bytesRead.load()) / options.frame;
    result.readerUsPerFrame = framesRead > 0 ? readerCpu.load() * 1e6 / framesRead : 0;
    result.refused = refused;
    return result;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    const Options options = parse(argc, argv);
    std::vector<int> writers, readers;
    connectPairs(options.connections, writers, readers);
    std::printf("loopback floor: %d connections, %d-byte frames, %.1f s per run, median of %d\n",
        options.connections, options.frame, options.seconds, options.runs);
    std::printf("%6s %14s %12s %18s %18s %18s %10s\n", "frames", "frames/s", "writes/s",
        "writer us/write", "writer us/frame", "reader us/frame", "refused");
    for (const int batch : options.batches) {
        std::vector<double> fps, wps, perWrite, perFrame, reader;
        long long refused = 0;
        for (int run = 0; run < options.runs; ++run) {
            const Result r = measure(options, batch, writers, readers);
            fps.push_back(r.framesPerSecond);
            wps.push_back(r.writesPerSecond);
            perWrite.push_back(r.writerUsPerWrite);
            perFrame.push_back(r.writerUsPerFrame);
            reader.push_back(r.readerUsPerFrame);
            refused += r.refused;
        }
        std::printf("%6d %14.0f %12.0f %18.2f %18.2f %18.2f %10lld\n", batch, median(fps),
            median(wps), median(perWrite), median(perFrame), median(reader), refused);
    }
    for (const int fd : writers)
        ::close(fd);
    for (const int fd : readers)
        ::close(fd);
    return 0;
}
