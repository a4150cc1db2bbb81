/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    SPLAMFLOW: extract -> split -> score (one task per chunk, GPU-capable) -> merge -> clean
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Scatter/gather: JUNCTIONS_SPLIT writes chunk k (0-based) of a sample's junctions as
    <id>.chunk_<k as 6 digits>.bed. Each chunk becomes one SPLAM_SCORE task whose meta
    carries `chunk: k, chunks: n`. The gather groups a sample's n scored chunks (groupKey
    with the size known up front, so no waiting for the end of the channel), checks that
    the indices are exactly 0..n-1, sorts by index, and JUNCTIONS_MERGE concatenates them
    in that order: the merged scores have the bytes the unsplit file would have given,
    because scoring is row-by-row in input order.
----------------------------------------------------------------------------------------
*/

include { SPLAM_EXTRACT   } from '../modules/local/splam/extract/main'
include { JUNCTIONS_SPLIT } from '../modules/local/junctions/split/main'
include { SPLAM_SCORE     } from '../modules/local/splam/score/main'
include { JUNCTIONS_MERGE } from '../modules/local/junctions/merge/main'
include { SPLAM_CLEAN     } from '../modules/local/splam/clean/main'

workflow SPLAMFLOW {

    take:
    ch_inputs   // channel: [ val(meta), path(bam or gtf), path(index) or [] ]
    ch_fasta    // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] ]
    ch_model    // channel: [] or [ path(weights), path(json metadata) ]
    chunk_size  // integer: junctions per scoring task

    main:
    SPLAM_EXTRACT(ch_inputs, ch_fasta)

    JUNCTIONS_SPLIT(SPLAM_EXTRACT.out.bed, chunk_size)

    ch_chunks = JUNCTIONS_SPLIT.out.chunks
        .flatMap { meta, chunks ->
            def files = chunks instanceof List ? chunks : [chunks]
            files.collect { chunk -> [meta + [chunk: chunkIndex(chunk), chunks: files.size()], chunk] }
        }

    SPLAM_SCORE(ch_chunks, ch_fasta, ch_model)

    ch_scored = SPLAM_SCORE.out.bed
        .map { meta, scores -> [groupKey(sampleMeta(meta), meta.chunks), [meta.chunk, scores]] }
        .groupTuple()
        .map { key, indexed -> [key.getGroupTarget(), chunksInOrder(key.getGroupTarget(), indexed)] }

    JUNCTIONS_MERGE(ch_scored)

    ch_to_clean = ch_inputs
        .join(JUNCTIONS_MERGE.out.bed, failOnDuplicate: true, failOnMismatch: true)

    SPLAM_CLEAN(ch_to_clean)

    emit:
    junctions   = SPLAM_EXTRACT.out.bed       // channel: [ val(meta), path(junctions.bed) ]
    scores      = JUNCTIONS_MERGE.out.bed     // channel: [ val(meta), path(scores.bed) ]
    cleaned_bam = SPLAM_CLEAN.out.bam         // channel: [ val(meta), path(cleaned.bam) ]
    cleaned_bai = SPLAM_CLEAN.out.bai         // channel: [ val(meta), path(cleaned.bam.bai) ]
    discarded   = SPLAM_CLEAN.out.discarded   // channel: [ val(meta), path(discarded.bam) ]
    annotation  = SPLAM_CLEAN.out.annotation  // channel: [ val(meta), path(cleaned.gtf) ]
    stats       = SPLAM_CLEAN.out.stats       // channel: [ val(meta), path(clean_stats.json) ]
    mqc         = SPLAM_CLEAN.out.mqc         // channel: [ val(meta), path(clean_stats_mqc.tsv) ]
}

/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Functions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
*/

// 0-based chunk index from a JUNCTIONS_SPLIT file name: <id>.chunk_000042.bed -> 42
def chunkIndex(Object chunk) {
    def match = chunk.name =~ /\.chunk_(\d{6})\.bed$/
    if (!match.find()) {
        error("splamflow: unexpected chunk file name ${chunk.name} (expected <id>.chunk_NNNNNN.bed)")
    }
    return match.group(1) as Integer
}

// The sample's meta map without the per-chunk keys
def sampleMeta(Map meta) {
    return meta.findAll { key, value -> !(key in ['chunk', 'chunks']) }
}

// Scored chunks sorted by chunk index, after checking that the indices are exactly 0..n-1
def chunksInOrder(Map meta, List indexed) {
    def sorted = indexed.sort(false) { pair -> pair[0] }
    def indices = sorted.collect { pair -> pair[0] }
    if (indices != (0..<indices.size()).toList()) {
        error("splamflow: sample ${meta.id}: scored chunks ${indices} are not exactly 0..${indices.size() - 1}")
    }
    return sorted.collect { pair -> pair[1] }
}
