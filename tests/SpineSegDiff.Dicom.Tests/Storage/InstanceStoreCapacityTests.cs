using Microsoft.Extensions.Logging.Abstractions;
using SpineSegDiff.Dicom.Network;
using SpineSegDiff.Dicom.Storage;

namespace SpineSegDiff.Dicom.Tests.Storage;

/// <summary>The free-disk guard's decision, with the file system's free space simulated.</summary>
public sealed class InstanceStoreCapacityTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "spineseg-capacity-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Below_the_minimum_the_store_refuses_new_data_and_at_it_accepts()
    {
        var probe = new FakeProbe { Available = 99 * MiB };
        var store = Store(minimumMegabytes: 100, probe);

        store.CheckCapacity().Should().Be(new StorageCapacity(false, 99 * MiB, 100 * MiB));
        probe.Directories.Should().Equal(store.RootDirectory);

        probe.Available = 100 * MiB;
        store.CheckCapacity().IsAvailable.Should().BeTrue("exactly the minimum is enough");
    }

    [Fact]
    public void Zero_turns_the_guard_off_without_measuring()
    {
        var probe = new FakeProbe { Available = 0 };

        Store(minimumMegabytes: 0, probe).CheckCapacity().Should().Be(StorageCapacity.Unlimited);
        probe.Directories.Should().BeEmpty();
    }

    [Fact]
    public void When_free_space_cannot_be_measured_associations_are_let_through()
    {
        Store(minimumMegabytes: 100, new FakeProbe { Available = null }).CheckCapacity().IsAvailable.Should().BeTrue();
    }

    [Fact]
    public void The_real_probe_measures_the_store_folder_and_an_absurd_minimum_refuses()
    {
        Directory.CreateDirectory(_root);
        FileSystemFreeSpaceProbe.Instance.AvailableBytes(_root).Should().BePositive();

        var store = Store(minimumMegabytes: 1_000_000_000, probe: null);
        var capacity = store.CheckCapacity();

        capacity.IsAvailable.Should().BeFalse("no test machine has a petabyte free");
        capacity.AvailableBytes.Should().BePositive();
    }

    [Theory]
    [InlineData(-1L, false)]
    [InlineData(0L, true)]
    [InlineData(1024L, true)]
    [InlineData(InstanceStoreOptions.MaxMinimumFreeDiskMegabytes, true)]
    [InlineData(InstanceStoreOptions.MaxMinimumFreeDiskMegabytes + 1, false)]
    public void The_minimum_is_validated(long megabytes, bool valid)
    {
        var errors = new InstanceStoreOptions { MinimumFreeDiskMegabytes = megabytes }.Validate();
        if (valid)
        {
            errors.Should().BeEmpty();
        }
        else
        {
            errors.Should().ContainSingle().Which.Should().StartWith("Storage:MinimumFreeDiskMegabytes");
        }
    }

    [Fact]
    public void The_default_minimum_is_one_gigabyte()
    {
        new InstanceStoreOptions().MinimumFreeDiskMegabytes.Should().Be(1024);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private InstanceStore Store(long minimumMegabytes, IFreeSpaceProbe? probe) =>
        new(new InstanceStoreOptions { RootDirectory = _root, MinimumFreeDiskMegabytes = minimumMegabytes, FlushToDisk = false },
            NullLogger<InstanceStore>.Instance, observer: null, freeSpace: probe);

    private sealed class FakeProbe : IFreeSpaceProbe
    {
        public long? Available { get; set; }

        public List<string> Directories { get; } = [];

        public long? AvailableBytes(string directory)
        {
            Directories.Add(directory);
            return Available;
        }
    }
}
