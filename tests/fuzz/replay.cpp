// Replays files through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so the main
// build (GCC, the ci and asan presets) runs every committed seed and every past finding as an
// ordinary ctest test: the same inputs, in the same order, on every run.
//
//   replay_<target> FILE_OR_DIRECTORY...
//
// Directories are read one level deep, files in name order. A broken invariant aborts (the
// targets' require()), a sanitizer stops the run; otherwise it prints how many inputs it ran.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStringList>
#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    QStringList files;
    for (int i = 1; i < argc; ++i) {
        const QString path = QString::fromLocal8Bit(argv[i]);
        const QFileInfo info(path);
        if (info.isDir()) {
            const QDir dir(path);
            for (const QString &name : dir.entryList(QDir::Files | QDir::Hidden, QDir::Name))
                files.append(dir.filePath(name));
        } else if (info.isFile()) {
            files.append(path);
        } else {
            std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            return 2;
        }
    }
    if (files.isEmpty()) {
        std::fprintf(stderr, "replay: no inputs\n");
        return 2;
    }
    for (const QString &path : files) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            std::fprintf(
                stderr, "replay: %s: %s\n", qPrintable(path), qPrintable(file.errorString()));
            return 2;
        }
        const QByteArray input = file.readAll();
        // Named first, so a failure's output says which input it was.
        std::fprintf(stderr, "replay: %s\n", qPrintable(path));
        // A copy the exact size of the input, so ASan sees a read one past its end.
        auto *exact = new uint8_t[size_t(input.size())];
        std::copy(input.cbegin(), input.cend(), exact);
        LLVMFuzzerTestOneInput(exact, size_t(input.size()));
        delete[] exact;
    }
    std::printf("replay: %lld inputs, no finding\n", static_cast<long long>(files.size()));
    return 0;
}
