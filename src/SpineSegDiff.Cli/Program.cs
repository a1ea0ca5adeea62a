using System.CommandLine;
using SpineSegDiff.Cli.Commands;
using SpineSegDiff.Cli.Hosting;

namespace SpineSegDiff.Cli;

/// <summary>The one command-line program of the node: every capability adds its command here.</summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        // First, before the program does anything it would have to do twice: it may restart itself in place.
        AllocatorArenas.EnsureSingleArena();
        var root = new RootCommand("SpineSegDiff.Pacs: a DICOM node that segments lumbar spine MRI.")
        {
            ServeCommand.Create(),
            EchoCommand.Create(),
            SendCommand.Create(),
            BenchStoreCommand.Create(),
            PhantomCommand.Create(),
            BenchModelCommand.Create(),
            TrainCommand.Create(),
            SegmentCommand.Create(),
            SegFromMaskCommand.Create(),
            DemoCommand.Create(),
            EvaluateCommand.Create(),
            BenchSegmentCommand.Create(),
        };
        // Ctrl+C / SIGTERM cancel the command's token; the program then gets this long to finish cleanly (a training
        // step and its checkpoint, the node's open associations) before the process is ended regardless.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
        return root.Parse(args).InvokeAsync(invocation);
    }
}
