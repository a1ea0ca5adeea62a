namespace SpineSegDiff.Dicom.Network;

/// <summary>A file to send, as its meta header describes it.</summary>
internal sealed record OutgoingFile(int Index, string Path, string SopClassUid, string SopInstanceUid, DicomTransferSyntax TransferSyntax, long DatasetOffset, long DatasetLength);

/// <summary>The presentation contexts of one association and the files it carries.</summary>
internal sealed record AssociationPlan(IReadOnlyList<PresentationContextProposal> Contexts, IReadOnlyList<OutgoingFile> Files);

/// <summary>
/// Decides which presentation contexts to propose for a batch of files. Each (SOP class, transfer syntax) pair gets
/// its own single-syntax context, for every syntax the files of that class come in plus Explicit and Implicit VR
/// Little Endian: the acceptor then tells us exactly which encodings it takes, so a file in an accepted syntax is
/// streamed unchanged and the others are re-encoded to an accepted one. At most 128 contexts fit one association
/// (odd ids 1-255); more SOP classes are spread over several associations.
/// </summary>
internal static class PresentationContextPlanner
{
    public const int MaxContextsPerAssociation = 128;

    public static IReadOnlyList<AssociationPlan> Plan(IReadOnlyList<OutgoingFile> files, int maxContexts = MaxContextsPerAssociation)
    {
        var classes = files
            .GroupBy(f => f.SopClassUid, StringComparer.Ordinal)
            .Select(g => (SopClass: g.Key, Syntaxes: SyntaxesFor(g), Files: g.ToList()))
            .ToList();
        var plans = new List<AssociationPlan>();
        var contexts = new List<PresentationContextProposal>();
        var batch = new List<OutgoingFile>();
        foreach (var (sopClass, syntaxes, classFiles) in classes)
        {
            var needed = Math.Min(syntaxes.Count, maxContexts);
            if (contexts.Count + needed > maxContexts)
            {
                plans.Add(Finish(contexts, batch));
                contexts = [];
                batch = [];
            }
            foreach (var syntax in syntaxes.Take(needed))
            {
                var id = (byte)(contexts.Count * 2 + 1);
                contexts.Add(new PresentationContextProposal(id, sopClass, [syntax]));
            }
            batch.AddRange(classFiles);
        }
        if (contexts.Count > 0)
        {
            plans.Add(Finish(contexts, batch));
        }
        return plans;
    }

    private static AssociationPlan Finish(List<PresentationContextProposal> contexts, List<OutgoingFile> batch) =>
        new(contexts, batch.OrderBy(f => f.Index).ToList());

    private static List<string> SyntaxesFor(IEnumerable<OutgoingFile> files)
    {
        var syntaxes = new List<string>();
        foreach (var uid in files.Select(f => f.TransferSyntax.Uid)
                     .Append(DicomTransferSyntax.ExplicitVRLittleEndian.Uid)
                     .Append(DicomTransferSyntax.ImplicitVRLittleEndian.Uid))
        {
            if (!syntaxes.Contains(uid, StringComparer.Ordinal))
            {
                syntaxes.Add(uid);
            }
        }
        return syntaxes;
    }
}
